// A run that failed because PostgreSQL went away under it (its connection ended by the server,
// SQLSTATE 57P01) is no fault of the task: it runs again, INTERRUPTED in its history, spending
// the lost-lease budget rather than its attempts, and its error says so in plain words. A
// connection refused by another service (not PostgreSQL's port) is the handler's own failure.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, FAST_TASK_ENGINE, testOutput } from '../utils/test-tasks.js';

const { h } = useTasks();

const outcomes = (log: unknown) => (log as Array<{ outcome: string }>).map((each) => each.outcome);

describe('a run PostgreSQL went away under', () => {
  it('runs again without spending an attempt, and a poison one still ends DEAD', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 4 });
    const enqueue = (output: string) =>
      enqueueTestTask(app.pubsub, testOutput, { output }, { ownerId });
    // testOutput allows one attempt: a retry spent on the interruption would leave it DEAD.
    const once = await enqueue('unreachable-database-once');
    const always = await enqueue('unreachable-database');
    const elsewhere = await enqueue('refused-connection');
    const rows = await endedTasks([once.id, always.id, elsewhere.id]);

    expect(rows.get(once.id)).toMatchObject({
      status: 'COMPLETED',
      result: { ranAgain: true },
      attempts: 2,
      leaseLosses: 1,
      maxAttempts: 1,
    });
    expect(outcomes(rows.get(once.id)!.attemptLog)).toEqual(['INTERRUPTED']);
    // Every run interrupted: DEAD once the budget of lost leases is spent, in plain words.
    const budget = FAST_TASK_ENGINE.maxLeaseLosses;
    expect(rows.get(always.id)).toMatchObject({
      status: 'DEAD',
      error: 'the database was unavailable while it ran',
      attempts: budget,
      leaseLosses: budget,
    });
    expect(outcomes(rows.get(always.id)!.attemptLog)).toEqual(Array(budget).fill('INTERRUPTED'));
    const last = await db().taskEvent.findFirstOrThrow({
      where: { taskId: always.id },
      orderBy: { sequence: 'desc' },
    });
    expect(last.message).toBe(
      `interrupted ${budget} times: the database was unavailable while it ran`,
    );
    // Another service refusing a connection is not the database: its own words, one attempt.
    expect(rows.get(elsewhere.id)).toMatchObject({
      status: 'DEAD',
      error: 'connect ECONNREFUSED 127.0.0.1:1',
      attempts: 1,
      leaseLosses: 0,
    });
    await expectLogsGapFree(rows);

    // As clients read it: attempts past maxAttempts, each run said why it ended.
    const read = await h.gql(
      `query($id: ID!) { task(id: $id) { attempts maxAttempts attemptHistory { outcome } }
         tasks(first: 10) { edges { node { id maxAttempts } } } }`,
      { id: toGlobalId('Task', always.id) },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data.task).toEqual({
      attempts: budget,
      maxAttempts: 1,
      attemptHistory: Array(budget).fill({ outcome: 'INTERRUPTED' }),
    });
    expect(read.data.tasks.edges.map((edge: any) => edge.node.maxAttempts)).toContain(1);
  });
});

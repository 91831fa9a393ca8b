// A run that ends asking to run later, what it waits on being unavailable for a while
// (RetryLaterError: a report's LLM route cooling down), is no failure of the task: it runs
// again once that wait passes, POSTPONED in its history, spending the budget of postponements
// (TASK_MAX_POSTPONEMENTS) rather than its attempts; a task that is never let through still
// ends DEAD, in plain words.
import { describe, expect, it, vi } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import {
  enqueueTestTask,
  FAST_TASK_ENGINE,
  testWaitsOn,
  waitsOnFinished,
} from '../utils/test-tasks.js';

const { h } = useTasks();

type Attempt = { attempt: number; outcome: string; startedAt: string; endedAt: string };
const attemptsOf = (log: unknown) => log as Attempt[];

describe('a run that asks to run later', () => {
  it('runs again after its wait without spending an attempt, and still ends DEAD past the budget', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 4 });
    const WAIT_MS = 300;
    // Two attempts allowed: two postponed runs spending them would leave it DEAD before its
    // one real failure, and that failure is retried (its first, not its third).
    const waited = await enqueueTestTask(
      app.pubsub,
      testWaitsOn,
      { postponedRuns: 2, failedRuns: 1, waitMs: WAIT_MS },
      { ownerId },
    );
    const never = await enqueueTestTask(
      app.pubsub,
      testWaitsOn,
      { postponedRuns: 1_000, failedRuns: 0, waitMs: 20 },
      { ownerId },
    );
    const rows = await endedTasks([waited.id, never.id]);

    expect(rows.get(waited.id)).toMatchObject({
      status: 'COMPLETED',
      result: { ranOn: 4 },
      attempts: 4,
      postponements: 2,
      leaseLosses: 0,
      maxAttempts: 2,
    });
    const history = attemptsOf(rows.get(waited.id)!.attemptLog);
    expect(history.map((each) => each.outcome)).toEqual(['POSTPONED', 'POSTPONED', 'FAILED']);
    // Each postponed run's next one began no sooner than the wait it asked for.
    for (const [before, after] of [
      [history[0]!, history[1]!],
      [history[1]!, history[2]!],
    ])
      expect(Date.parse(after.startedAt) - Date.parse(before.endedAt)).toBeGreaterThanOrEqual(
        WAIT_MS - 2,
      );

    // Never let through: DEAD once the budget of postponements is spent, in plain words.
    const budget = FAST_TASK_ENGINE.maxPostponements;
    expect(rows.get(never.id)).toMatchObject({
      status: 'DEAD',
      error: 'route cooling down',
      attempts: budget,
      postponements: budget,
    });
    expect(attemptsOf(rows.get(never.id)!.attemptLog).map((each) => each.outcome)).toEqual(
      Array(budget).fill('POSTPONED'),
    );
    const events = await db().taskEvent.findMany({
      where: { taskId: never.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.at(-1)!.message).toBe(`postponed ${budget} times: route cooling down`);
    // The row its finishing step is handed is the ended one, its last postponement counted.
    await vi.waitFor(() => expect(waitsOnFinished.get(never.id)).toBeDefined());
    expect(waitsOnFinished.get(never.id)).toEqual({ status: 'DEAD', postponements: budget });
    expect(events.filter((event) => event.status === 'PENDING').map((e) => e.message)).toEqual([
      'enqueued',
      expect.stringMatching(/^attempt 1 postponed, retry at \d{4}-\d\d-\d\dT/),
      expect.stringMatching(/^attempt 2 postponed, retry at /),
    ]);
    await expectLogsGapFree(rows);

    // As clients read it: attempts past maxAttempts, each run said why it ended.
    const read = await h.gql(
      `query($id: ID!) { task(id: $id) { status attempts maxAttempts attemptHistory { outcome } } }`,
      { id: toGlobalId('Task', waited.id) },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data.task).toEqual({
      status: 'COMPLETED',
      attempts: 4,
      maxAttempts: 2,
      attemptHistory: [
        { outcome: 'POSTPONED' },
        { outcome: 'POSTPONED' },
        { outcome: 'FAILED' },
        { outcome: 'COMPLETED' },
      ],
    });
  });
});

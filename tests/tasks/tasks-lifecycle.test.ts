// A task's life after it is queued: cancelled pending or running, timed out, retried with
// backoff, dead-lettered and retried by hand, failed at once when it can never work.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { pushCancellation, wakeWorkers } from '../../src/queue/signals.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { errorCodes } from '../utils/graphql.js';
import {
  cleanedUpAt,
  enqueueTestTask,
  testFail,
  testSleep,
  testSlowCleanup,
} from '../utils/test-tasks.js';
import { lockAgentRow } from '../utils/row-lock.js';
import { waitFor } from '../utils/wait.js';
import {
  adminUserId,
  finished,
  refresh,
  stillRunningOrStopped,
  taskQuery,
  useTasks,
} from './fixture.js';
import { rowId } from '../utils/ids.js';

const { h, agentFixture, taskUntil, adminTaskRunning } = useTasks();

describe('cancel', () => {
  it('cancels a PENDING task at once, and it never runs', async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    const task = (await h.gql(refresh, { input: { agentId: agent.id } })).data.refreshCoverage.task;
    const cancelled = await h.gql(
      'mutation($id: ID!) { cancelTask(id: $id) { status cancellationRequested completedAt } }',
      { id: task.id },
    );
    expect(cancelled.data.cancelTask).toMatchObject({
      status: 'CANCELLED',
      cancellationRequested: true,
    });
    await h.startWorker(app.pubsub);
    const marker = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    await taskUntil(toGlobalId('Task', marker.id), (t) => t.status === 'COMPLETED');
    const after = (await h.gql(taskQuery, { id: task.id })).data.task;
    expect(after).toMatchObject({ status: 'CANCELLED', attempts: 0, startedAt: null });
    expect(await db().coverageHistory.count({ where: { agentId: rowId(agent.id) } })).toBe(0);
  });

  it('cancels a task whose cancellation was pushed before its claim reached the worker', async () => {
    const app = await h.startApp();
    // No poll while the test arranges the order: the push first, then the claim.
    await h.startWorker(app.pubsub, { pollMs: 60_000 });
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    // Written straight, so that no wake-up claims it before the push.
    const row = await db().task.create({
      data: {
        type: 'test_sleep',
        payload: { ms: 10_000 },
        ownerId: await adminUserId(),
        teamId,
        maxAttempts: 1,
        lastSequence: 1,
      },
    });
    await db().taskEvent.create({
      data: {
        taskId: row.id,
        sequence: 1,
        status: 'PENDING',
        progressPercent: 0,
        message: 'enqueued',
      },
    });
    await pushCancellation(app.pubsub, row.id);
    // Any later publish on the same connection is handled after the push: the wake-up.
    await wakeWorkers(app.pubsub, 'test_sleep');
    const id = toGlobalId('Task', row.id);
    const ended = await taskUntil(id, (t) => finished(t.status));
    expect(ended.status).toBe('CANCELLED');
    const messages = ended.events.edges.map((edge: any) => edge.node.message);
    expect(messages).toEqual(['enqueued', 'cancelled before it ran']);
  });

  it("stops a RUNNING task on a push in the previous release's one-task form", async () => {
    const app = await h.startApp();
    // No heartbeat within the test: only the push can stop it.
    await h.startWorker(app.pubsub, { heartbeatMs: 60_000 });
    const task = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 60_000 },
      { ownerId: await adminUserId() },
    );
    const id = toGlobalId('Task', task.id);
    await taskUntil(id, (t) => t.status === 'RUNNING');
    await app.pubsub.publish('taskCancel', 'workers', { taskId: task.id });
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done).toMatchObject({ status: 'CANCELLED', error: 'cancelled while running' });
  });

  it('stops a RUNNING task through its AbortSignal, ending CANCELLED', async () => {
    const { id } = await adminTaskRunning(testSleep, { ms: 60_000 });
    await taskUntil(id, (t) => t.status === 'RUNNING');
    const asked = await h.gql(
      'mutation($id: ID!) { cancelTask(id: $id) { status cancellationRequested } }',
      { id },
    );
    expect(asked.data.cancelTask.cancellationRequested).toBe(true);
    expect(stillRunningOrStopped).toContain(asked.data.cancelTask.status);
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done).toMatchObject({ status: 'CANCELLED', error: 'cancelled while running' });
    expect(done.events.edges.map((e: any) => e.node.message)).toContain('cancellation requested');
  });

  it("cancels a running coverage refresh's statement in PostgreSQL: nothing recorded", async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    // The agent's row held elsewhere: the refresh waits as it updates the agent, last.
    const { waiting, release } = await lockAgentRow(h, rowId(agent.id));
    const task = (await h.gql(refresh, { input: { agentId: agent.id } })).data.refreshCoverage.task;
    await waitFor(async () => (await waiting()) > 0, 'the refresh waiting on the lock');
    await h.gql('mutation($id: ID!) { cancelTask(id: $id) { status } }', { id: task.id });
    // Ended while the lock is still held: a statement left running would wait for it.
    const done = await taskUntil(task.id, (t) => finished(t.status));
    expect(done.status).toBe('CANCELLED');
    expect(await waiting()).toBe(0);
    await release();
    expect(await db().coverageHistory.count({ where: { agentId: rowId(agent.id) } })).toBe(0);
  });

  it("records a cancelled task's end once its handler has wound down", async () => {
    const { row, id } = await adminTaskRunning(testSlowCleanup, { cleanupMs: 200 });
    await taskUntil(id, (t) => t.status === 'RUNNING');
    await h.gql('mutation($id: ID!) { cancelTask(id: $id) { status } }', { id });
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done.status).toBe('CANCELLED');
    // The clean-up (200 ms after the abort) came before the end was recorded.
    expect(cleanedUpAt.get(row.id)).toBeLessThanOrEqual(new Date(done.completedAt).getTime());
  });

  it('answers a finished task with CONFLICT and an unknown one with NOT_FOUND', async () => {
    const { id } = await adminTaskRunning(testSleep, { ms: 1 });
    await taskUntil(id, (t) => t.status === 'COMPLETED');
    const cancel = 'mutation($id: ID!) { cancelTask(id: $id) { status } }';
    expect(errorCodes(await h.gql(cancel, { id }))).toEqual(['CONFLICT']);
    expect(
      errorCodes(
        await h.gql(cancel, { id: toGlobalId('Task', '00000000-0000-0000-0000-000000000000') }),
      ),
    ).toEqual(['NOT_FOUND']);
  });
});

describe('timeouts, retries and the dead letter', () => {
  it('ends a task that overruns its timeout as TIMEOUT', async () => {
    const { id } = await adminTaskRunning(testSleep, { ms: 60_000 }, { timeoutSeconds: 1 });
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done).toMatchObject({ status: 'TIMEOUT', error: 'timed out after 1 s' });
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    const { id } = await adminTaskRunning(testFail, { failAttempts: 2 });
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done).toMatchObject({
      status: 'COMPLETED',
      attempts: 3,
      result: { succeededOnAttempt: 3 },
    });
    expect(
      done.events.edges.filter((e: any) => /failed, retry at/.test(e.node.message ?? '')),
    ).toHaveLength(2);
  });

  it('dead-letters after the last attempt, and retryTask brings it back', async () => {
    const { row, id } = await adminTaskRunning(testFail, { failAttempts: 5 });
    const dead = await taskUntil(id, (t) => finished(t.status));
    expect(dead).toMatchObject({
      status: 'DEAD',
      attempts: 3,
      error: 'transient failure on attempt 3',
    });
    const stats = (await h.gql('{ queueStats { dead workersAlive byPriority } }')).data.queueStats;
    expect(stats.dead).toBeGreaterThanOrEqual(1);
    expect(stats.workersAlive).toBeGreaterThanOrEqual(1);
    // Make the next round succeed: fewer failures than attempts.
    await db().task.update({ where: { id: row.id }, data: { payload: { failAttempts: 1 } } });
    const retried = await h.gql(
      'mutation($id: ID!) { retryTask(id: $id) { status attempts error } }',
      { id },
    );
    expect(retried.data.retryTask).toEqual({ status: 'PENDING', attempts: 0, error: null });
    expect(await taskUntil(id, (t) => finished(t.status))).toMatchObject({
      status: 'COMPLETED',
      attempts: 2,
    });
    expect(
      errorCodes(await h.gql('mutation($id: ID!) { retryTask(id: $id) { status } }', { id })),
    ).toEqual(['CONFLICT']);
  });

  it('fails a non-retryable error at once', async () => {
    const { id } = await adminTaskRunning(testFail, { failAttempts: 0, nonRetryable: true });
    expect(await taskUntil(id, (t) => finished(t.status))).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: 'this can never work',
    });
  });

  it('fails a refresh whose agent was deleted, without retrying', async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    const task = (await h.gql(refresh, { input: { agentId: agent.id } })).data.refreshCoverage.task;
    // Detach the task from the agent first, so the delete does not cascade to it.
    await db().task.update({ where: { id: rowId(task.id) }, data: { agentId: null } });
    await h.gql('mutation($id: ID!) { deleteAgent(id: $id) }', { id: agent.id });
    await h.startWorker(app.pubsub);
    expect(await taskUntil(task.id, (t) => finished(t.status))).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: 'the agent was deleted',
    });
  });
});

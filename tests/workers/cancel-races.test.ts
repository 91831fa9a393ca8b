// A cancellation that meets a worker's other news: the run failing (its retry), the worker
// shutting down (its hand-back), or a later run of the task (retried since, then claimed by a
// worker that kept the push). A cancelled task never runs again unless retried, and a retried
// one is not cancelled by the request its earlier run was asked to stop by.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { requestCancellation } from '../../src/queue/cancel.js';
import { claimTasks } from '../../src/queue/claim.js';
import { handBackTasks } from '../../src/queue/hand-back-tasks.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { pushCancellation } from '../../src/queue/signals.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { graphql } from '../utils/graphql.js';
import type { TestApp } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import {
  addUnrunTask,
  adminUserId,
  endedTasks,
  expectLogsGapFree,
  stillRunningOrStopped,
  useTasks,
} from '../tasks/fixture.js';

const { h } = useTasks();

const claim = (type: string, limit: number, startNow: number) => ({
  types: [type],
  leaseMs: 10_000,
  limit,
  startNow,
});

/** On the test's own app: its pushes reach the workers started on its pub/sub. */
const asAdmin = (app: TestApp, query: string, variables: Record<string, unknown>) =>
  graphql(app.fetch, query, variables, { key: h.adminKey });

const lastEvent = (taskId: string) =>
  db().taskEvent.findFirstOrThrow({ where: { taskId }, orderBy: { sequence: 'desc' } });

const outcomes = (log: unknown) => (log as Array<{ outcome: string }>).map((each) => each.outcome);

const waitForStatus = (taskId: string, status: string) =>
  waitFor(async () => {
    const row = await db().task.findUniqueOrThrow({ where: { id: taskId } });
    return row.status === status ? row : undefined;
  }, `task ${taskId} ${status}`);

describe('a cancellation racing a worker', () => {
  it('ends CANCELLED, not retried, a run that failed after its cancellation was asked for', async () => {
    const type = 'test_cancel_then_fail';
    const task = await addUnrunTask(type, await adminUserId());
    expect(await claimTasks(db(), 'worker-a', claim(type, 1, 1))).toHaveLength(1);
    expect((await requestCancellation(db(), task.id))?.changed).toBe(true);
    // The run failed before the request reached it: a retry, as the worker writes it.
    const [row] = await writeTaskChanges(
      db(),
      'worker-a',
      [{ kind: 'RETRY', taskId: task.id, attempt: 1, error: 'failed meanwhile' }],
      { baseMs: 10, maxMs: 10, maxLeaseLosses: 3, maxPostponements: 3 },
    );
    expect(row).toMatchObject({ status: 'CANCELLED', currentStep: 'cancelled' });
    expect(await claimTasks(db(), 'worker-b', claim(type, 1, 1))).toEqual([]);
    const stored = await db().task.findUniqueOrThrow({ where: { id: task.id } });
    expect(stored).toMatchObject({ status: 'CANCELLED', error: 'failed meanwhile', attempts: 1 });
    expect(stored.completedAt).not.toBeNull();
    expect(outcomes(stored.attemptLog)).toEqual(['FAILED']);
    await expectLogsGapFree(new Map([[task.id, stored]]));
    expect((await lastEvent(task.id)).message).toBe(
      'attempt 1 failed; cancelled as asked, not retried',
    );
  });

  it('ends CANCELLED, not handed back, what a shutting-down worker held after its cancellation', async () => {
    const type = 'test_cancel_then_shutdown';
    const started = await addUnrunTask(type, await adminUserId());
    const waiting = await addUnrunTask(type, await adminUserId());
    const claimed = await claimTasks(db(), 'worker-a', claim(type, 2, 1));
    expect(claimed.map((task) => task.id)).toEqual([started.id, waiting.id]);
    for (const task of [started, waiting])
      expect((await requestCancellation(db(), task.id))?.changed).toBe(true);
    const back = await handBackTasks(db(), 'worker-a', [
      { taskId: started.id, attempt: 1, recorded: true },
      { taskId: waiting.id, attempt: 1, recorded: false },
    ]);
    expect(back).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: started.id, status: 'CANCELLED', announced: true }),
        expect.objectContaining({ id: waiting.id, status: 'CANCELLED', announced: true }),
      ]),
    );
    expect(await claimTasks(db(), 'worker-b', claim(type, 2, 2))).toEqual([]);
    const ran = await db().task.findUniqueOrThrow({ where: { id: started.id } });
    expect(ran).toMatchObject({
      attempts: 1,
      error: 'cancelled; its worker shut down while running it',
    });
    expect(outcomes(ran.attemptLog)).toEqual(['CANCELLED']);
    const unrun = await db().task.findUniqueOrThrow({ where: { id: waiting.id } });
    expect(unrun).toMatchObject({ attempts: 0, error: 'cancelled before it ran' });
    for (const row of [ran, unrun]) {
      expect(row).toMatchObject({ status: 'CANCELLED', currentStep: 'cancelled' });
      expect(row.completedAt).not.toBeNull();
      await expectLogsGapFree(new Map([[row.id, row]]));
      expect((await lastEvent(row.id)).message).toBe(
        'handed back: the worker is shutting down; cancelled as asked',
      );
    }
  });

  it('ends CANCELLED at shutdown a task waiting in the local queue whose push never came', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // One slot, busy for a moment; a heartbeat too rare to read the flag before the stop.
    const worker = await h.startWorker(app.pubsub, { concurrency: 1, heartbeatMs: 20_000 });
    const busy = await enqueueTestTask(app.pubsub, testSleep, { ms: 3_000 }, { ownerId });
    // Running in the worker, not only claimed (a claim whose answer the shutdown outran is
    // handed back unstarted).
    await waitFor(async () => {
      const row = await db().task.findUniqueOrThrow({ where: { id: busy.id } });
      return row.currentStep === 'sleeping';
    }, 'the first running');
    // Added only now, so that it can only be claimed behind the busy slot: two claims under way
    // at once (a poll's and a wake-up's) may take two tasks added together in either order.
    const waiting = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId });
    const claimed = await waitForStatus(waiting.id, 'RUNNING');
    expect(claimed.startedAt).toBeNull();
    // Asked for in the database only: no push reaches the worker.
    expect((await requestCancellation(db(), waiting.id))?.changed).toBe(true);
    await worker.stop(5_000);
    const rows = await endedTasks([busy.id, waiting.id]);
    expect(rows.get(busy.id)).toMatchObject({ status: 'COMPLETED' });
    expect(rows.get(waiting.id)).toMatchObject({
      status: 'CANCELLED',
      attempts: 0,
      error: 'cancelled before it ran',
    });
    await expectLogsGapFree(rows);
  });

  it('stops at once a run cancelled while its worker shuts down, within the grace period', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // A heartbeat too rare to poll the flag: only the push can stop it before the grace ends.
    const worker = await h.startWorker(app.pubsub, { heartbeatMs: 20_000, leaseMs: 60_000 });
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 10_000 }, { ownerId });
    // Running in the worker, not only claimed: a claim whose answer the shutdown outran is
    // handed back unstarted (PENDING), and a cancel then ends it at once.
    await waitFor(async () => {
      const row = await db().task.findUniqueOrThrow({ where: { id: task.id } });
      return row.currentStep === 'sleeping';
    }, 'its run reporting progress');
    const stopped = worker.stop(8_000);
    await sleep(200);
    const cancel = 'mutation($id: ID!) { cancelTask(id: $id) { status } }';
    const asked = Date.now();
    const id = toGlobalId('Task', task.id);
    expect(stillRunningOrStopped).toContain(
      (await asAdmin(app, cancel, { id })).data.cancelTask.status,
    );
    const row = await waitForStatus(task.id, 'CANCELLED');
    expect(row.error).toBe('cancelled while running');
    expect(row.completedAt!.getTime() - asked).toBeLessThan(5_000);
    await stopped;
  });

  it('runs a retried task on a worker that kept the push of its earlier cancellation', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const first = await h.startWorker(app.pubsub, { concurrency: 1 });
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 10_000 }, { ownerId });
    await waitForStatus(task.id, 'RUNNING');
    // The other worker, idle, gets the push too and keeps it (it may be about to claim it).
    const second = await h.startWorker(app.pubsub, { concurrency: 1 });
    const cancel = 'mutation($id: ID!) { cancelTask(id: $id) { status } }';
    const id = toGlobalId('Task', task.id);
    expect(stillRunningOrStopped).toContain(
      (await asAdmin(app, cancel, { id })).data.cancelTask.status,
    );
    await waitForStatus(task.id, 'CANCELLED');
    await first.stop(0);
    // Retried at once, and only the second worker left to claim it: the push it kept was
    // about the run the first one stopped, not this one.
    await db().task.update({ where: { id: task.id }, data: { payload: { ms: 1 } } });
    const retry = 'mutation($id: ID!) { retryTask(id: $id) { status } }';
    expect((await asAdmin(app, retry, { id })).data.retryTask.status).toBe('PENDING');
    const ended = (await endedTasks([task.id])).get(task.id)!;
    expect(ended).toMatchObject({ status: 'COMPLETED', workerId: second.id, attempts: 1 });
  });

  it('still cancels at once a claimed run whose cancellation was asked for after its claim', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // One slot, busy; a heartbeat too rare to read any flag meanwhile.
    await h.startWorker(app.pubsub, { concurrency: 1, heartbeatMs: 20_000, leaseMs: 60_000 });
    const busy = await enqueueTestTask(app.pubsub, testSleep, { ms: 2_000 }, { ownerId });
    await waitForStatus(busy.id, 'RUNNING');
    const due = new Date(Date.now() + 400);
    const add = async () =>
      (
        await enqueue(
          testSleep,
          { payload: { ms: 1 }, teamId: null, ownerId, runAt: due },
          { pubsub: app.pubsub },
        )
      ).task;
    // Pushed before their claims: one at the log position its claim will read (about an
    // earlier run), one past it (asked for after the claim, its push overtaking the answer).
    const stale = await add();
    const fresh = await add();
    await pushCancellation(app.pubsub, stale.id, stale.lastSequence);
    await pushCancellation(app.pubsub, fresh.id, fresh.lastSequence + 1);
    const rows = await endedTasks([stale.id, fresh.id]);
    expect(rows.get(fresh.id)).toMatchObject({
      status: 'CANCELLED',
      error: 'cancelled before it ran',
    });
    expect(rows.get(stale.id)).toMatchObject({ status: 'COMPLETED' });
  });
});

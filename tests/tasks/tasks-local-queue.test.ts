// A worker's local queue (src/workers/turns.ts): long tasks are claimed little ahead of the
// slots, so a worker busy with them leaves the rest of the queue to the other workers; once the
// queue ran dry, a wake-up's claim does not wait for a claim under way, and no claim asks the
// queue for what a claim under way already covers; a task whose cancellation came before its
// claim's answer ends at once; a recorded start's event is dated when the attempt began.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { pushCancellation, wakeWorkers } from '../../src/queue/signals.js';
import { lockTableForWrites } from '../utils/row-lock.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, useTasks } from './fixture.js';

const { h } = useTasks();

const held = (workerId: string) =>
  db().task.count({ where: { status: 'RUNNING', lockedBy: workerId } });

describe('the local queue', () => {
  it('holds long tasks little ahead of its slots, leaving the rest to another worker', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 400 }, { ownerId })).id);
    // Two slots and a batch of 8: a batch at a time would hold 10 of the 12 here.
    const first = await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 8 });
    await waitFor(async () => ((await held(first.id)) >= 2 ? true : undefined), 'first claim');
    await sleep(150);
    expect(await held(first.id)).toBeLessThanOrEqual(4);

    const second = await h.startWorker(app.pubsub, { concurrency: 2, batchSize: 8 });
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, await held(second.id));
      return most >= 4 ? true : undefined;
    }, 'the second worker holding 4 tasks');
    await waitFor(async () => {
      const done = await db().task.count({ where: { id: { in: ids }, status: 'COMPLETED' } });
      return done === ids.length ? true : undefined;
    }, 'every task COMPLETED');
  });

  it('claims on each wake-up beside the claim under way once the queue ran dry', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // No polls: only the wake-ups below ask it to claim.
    await h.startWorker(app.pubsub, { pollMs: 60_000 });
    const first = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId });
    await waitFor(async () => {
      const task = await db().task.findUniqueOrThrow({ where: { id: first.id } });
      return task.status === 'COMPLETED' ? true : undefined;
    }, 'the first task COMPLETED');
    // Its last claim found less than it asked for: the queue ran dry. Claims now wait on the
    // lock below, as a claim would wait on a slow commit.
    const lock = await lockTableForWrites(h, 'tasks');
    const waitingClaims = async () => {
      const [{ n }] = await db().$queryRaw<[{ n: number }]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%claimed AS%'`;
      return n;
    };
    await wakeWorkers(app.pubsub, testSleep.name);
    await waitFor(async () => ((await waitingClaims()) >= 1 ? true : undefined), 'a claim');
    await wakeWorkers(app.pubsub, testSleep.name);
    // The second wake-up's claim goes at once, not once the first is back.
    await waitFor(async () => ((await waitingClaims()) >= 2 ? true : undefined), 'two claims');
    await lock.release();
    const second = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId });
    await waitFor(async () => {
      const task = await db().task.findUniqueOrThrow({ where: { id: second.id } });
      return task.status === 'COMPLETED' ? true : undefined;
    }, 'the second task COMPLETED');
  });

  it('cancels at once a task whose cancellation was pushed while its claim was on its way', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // One slot, busy for 3 s; a heartbeat too rare to read any flag meanwhile.
    await h.startWorker(app.pubsub, { concurrency: 1, heartbeatMs: 20_000, leaseMs: 60_000 });
    const busy = await enqueueTestTask(app.pubsub, testSleep, { ms: 3_000 }, { ownerId });
    await waitFor(async () => {
      const task = await db().task.findUniqueOrThrow({ where: { id: busy.id } });
      return task.status === 'RUNNING' ? true : undefined;
    }, 'the busy task RUNNING');
    // Due in a moment: its cancellation is pushed before any claim can bring it (the worker
    // does not hold it, so it keeps the id), as when a push overtakes the claim's answer.
    const { task: late } = await enqueue(
      testSleep,
      { payload: { ms: 1 }, teamId: null, ownerId, runAt: new Date(Date.now() + 500) },
      { pubsub: app.pubsub },
    );
    await pushCancellation(app.pubsub, late.id);
    const cancelled = await waitFor(async () => {
      const task = await db().task.findUniqueOrThrow({ where: { id: late.id } });
      return task.status === 'CANCELLED' ? task : undefined;
    }, 'the late task CANCELLED');
    expect(cancelled.error).toBe('cancelled before it ran');
    // Before the busy slot freed: not when the task's turn to start came.
    const stillBusy = await db().task.findUniqueOrThrow({ where: { id: busy.id } });
    expect(stillBusy.status).toBe('RUNNING');
  });

  it("dates a start's RUNNING event when the attempt began, not when its start was recorded", async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // One slot: the first starts from its claim, the second waits in the local queue until
    // the first ends. Each start is recorded a moment after it began (turns.ts), long before
    // its end (a start not yet recorded at the end is folded into it: no RUNNING event).
    const ids: string[] = [];
    for (let i = 0; i < 2; i++)
      ids.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 800 }, { ownerId })).id);
    await h.startWorker(app.pubsub, { concurrency: 1, batchSize: 8 });
    const tasks = await waitFor(async () => {
      const rows = await db().task.findMany({ where: { id: { in: ids }, status: 'COMPLETED' } });
      return rows.length === ids.length ? rows : undefined;
    }, 'both tasks COMPLETED');
    for (const task of tasks) {
      const running = await db().taskEvent.findFirstOrThrow({
        where: { taskId: task.id, status: 'RUNNING', message: { startsWith: 'attempt 1 started' } },
      });
      expect(running.at.toISOString()).toBe(task.startedAt!.toISOString());
    }
  });

  it('asks the queue about once a task when tasks come one at a time to a dry queue', async () => {
    const { Registry } = await import('prom-client');
    const { createWorkerMetrics } = await import('../../src/workers/metrics.js');
    const registry = new Registry();
    const app = await h.startApp();
    const ownerId = await adminUserId();
    await h.startWorker(app.pubsub, { pollMs: 60_000, metrics: createWorkerMetrics(registry) });
    // One every 3 ms: each wake-up comes while the claim of the one before may be under way.
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      ids.push((await enqueueTestTask(app.pubsub, testSleep, { ms: 0 }, { ownerId })).id);
      await sleep(3);
    }
    await waitFor(async () => {
      const done = await db().task.count({ where: { id: { in: ids }, status: 'COMPLETED' } });
      return done === ids.length ? true : undefined;
    }, 'every task COMPLETED');
    const { values } = await registry.getSingleMetric('task_claim_statements_total')!.get();
    const claims = Object.fromEntries(values.map(({ labels, value }) => [labels.found, value]));
    // One claim a wake-up, and none beside a claim that started after the last wake-up (it
    // finds what that wake-up announced): before, about three a task, two of them empty.
    expect(claims.yes).toBeLessThanOrEqual(ids.length);
    expect((claims.yes ?? 0) + (claims.no ?? 0)).toBeLessThanOrEqual(1.5 * ids.length);
  });
});

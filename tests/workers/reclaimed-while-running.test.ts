// A worker whose lease on a running task expired while it lived (it froze past the lease, or
// was cut off from PostgreSQL) may claim the task's next attempt before its heartbeat finds the
// first one lost. The earlier attempt stops then, as lease-lost; the later one is the only one
// the worker holds: its lease renewed, its start and end written (src/workers/worker.ts).
// Before, both ran under one task id, and the earlier one's end dropped the later one from the
// heartbeat: its lease expired too and the task ran a third time. A task reclaimed before its
// start was recorded gets its attempt number back: the earlier attempt's clean-up must not
// touch the later one's under the same number.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { reclaimExpiredLeases } from '../../src/queue/reclaim-expired.js';
import { wakeWorkers } from '../../src/queue/signals.js';
import { adminUserId, endedTasks, expectLogsGapFree, useTasks } from '../tasks/fixture.js';
import { enqueueTestTask, holdStops, testHoldFirst } from '../utils/test-tasks.js';
import type { TestApp } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';

const { h } = useTasks();

/** One worker with a 1.5 s lease, running a test_hold_first task. */
async function holdingTask(payload: { holdMs: number; runMs: number }) {
  const app = await h.startApp();
  // The heartbeat must not find the loss first: it would stop the attempt itself.
  await h.startWorker(app.pubsub, { leaseMs: 1_500, heartbeatMs: 300, concurrency: 2 });
  const task = await enqueueTestTask(app.pubsub, testHoldFirst, payload, {
    ownerId: await adminUserId(),
  });
  return { app, task };
}

/**
 * Its lease expires and it is reclaimed at once, in one transaction (apart, a heartbeat could
 * renew it between); `startUnrecorded`: as if its start were not written yet (never run, its
 * attempt number given back). Then the worker is woken.
 */
async function reclaimNow(app: TestApp, taskId: string, startUnrecorded: boolean) {
  const reclaimed = await db().$transaction(async (tx) => {
    await tx.$executeRaw`UPDATE tasks SET "lockedUntil" = now() - interval '1 second',
        "startedAt" = CASE WHEN ${startUnrecorded} THEN NULL ELSE "startedAt" END
      WHERE id = ${taskId}::uuid`;
    return reclaimExpiredLeases(tx, 3);
  });
  expect(reclaimed.map((row) => [row.id, row.status])).toEqual([[taskId, 'PENDING']]);
  await wakeWorkers(app.pubsub, testHoldFirst.name);
}

describe('a task reclaimed while its worker still runs it', () => {
  it('stops the earlier attempt when the same worker claims the next one', async () => {
    // The first attempt holds long enough to be reclaimed on a busy host; the later one
    // outlives the first's hold and a lease after it: it completes only if its lease is renewed.
    const { app, task } = await holdingTask({ holdMs: 2_000, runMs: 5_000 });
    await waitFor(async () => {
      const row = await db().task.findUniqueOrThrow({ where: { id: task.id } });
      return row.status === 'RUNNING' && row.startedAt ? row : undefined;
    }, 'the first attempt running');
    await reclaimNow(app, task.id, false);

    const rows = await endedTasks([task.id]);
    const row = rows.get(task.id)!;
    expect(row.status).toBe('COMPLETED');
    expect(row.attempts).toBe(2);
    expect(row.leaseLosses).toBe(1);
    expect(row.result).toEqual({ attempt: 2 });
    expect(holdStops.get(task.id)).toEqual(['1:lease-lost']);
    await expectLogsGapFree(rows);
  });

  it('keeps the later attempt whole when the claim brings the same attempt number', async () => {
    // Attempt 1 both times: each holds two seconds, then completes.
    const { app, task } = await holdingTask({ holdMs: 2_000, runMs: 2_000 });
    await waitFor(
      async () =>
        (await db().taskEvent.count({ where: { taskId: task.id, status: 'RUNNING' } })) === 1 ||
        undefined,
      'the start of the first attempt recorded',
    );
    await reclaimNow(app, task.id, true);

    const rows = await endedTasks([task.id]);
    const row = rows.get(task.id)!;
    expect(row).toMatchObject({ status: 'COMPLETED', attempts: 1, leaseLosses: 0 });
    expect(row.result).toEqual({ attempt: 1 });
    expect(row.startedAt).not.toBeNull();
    expect(holdStops.get(task.id)).toEqual(['1:lease-lost']);
    // The later attempt's start written too: its own RUNNING event before its end.
    const events = await db().taskEvent.findMany({
      where: { taskId: task.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((event) => event.status)).toEqual([
      'PENDING',
      'RUNNING',
      'RUNNING',
      'COMPLETED',
    ]);
    await expectLogsGapFree(rows);
  });
});

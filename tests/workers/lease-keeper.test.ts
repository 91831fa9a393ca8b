// The heartbeat's judgement of lost leases (src/workers/lease-keeper.ts): a task the renewal
// did not renew is lost only if the worker still holds it at the attempt it held when the
// renewal was asked. A task whose retry was being written, claimed again by the same worker
// while the renewal ran, holds a new attempt the renewal never saw: stopping it as lost left
// its row RUNNING until its lease expired, and cost it a lease loss. Held "as" an object per
// attempt, not by its number: a task reclaimed before its start was recorded gets its number
// back, and the same worker may claim it again under that number.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { logger } from '../../src/platform/logger.js';
import { ClaimCounts } from '../../src/workers/claim-counts.js';
import { heartbeat, type HeldTasks } from '../../src/workers/lease-keeper.js';
import { adminUserId, useTasks } from '../tasks/fixture.js';
import { holdRow } from '../utils/row-lock.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';

const { h } = useTasks();

/** The worker's view: `holdings` answers heldAs before the renewal, then after it. */
function heldOf(taskId: string, holdings: { before?: object; after?: object }) {
  const lost: string[] = [];
  let renewing = false;
  const held: HeldTasks = {
    ids: () => {
      renewing = true;
      return [taskId];
    },
    heldAs: () => {
      const holding = renewing ? holdings.before : holdings.after;
      renewing = false;
      return holding;
    },
    cancel: () => undefined,
    lost: (id) => void lost.push(id),
    renewed: () => undefined,
  };
  return { held, lost };
}

describe('the heartbeat', () => {
  it('leaves alone a task claimed again while the renewal ran, and stops one it lost', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    // PENDING in PostgreSQL (its retry written), so no renewal renews it.
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId });
    expect((await db().task.findUniqueOrThrow({ where: { id: task.id } })).status).toBe('PENDING');
    const registration = { id: 'test-heartbeat', hostname: 'test', pid: 1, concurrency: 1 };
    const activity = { busySlots: 0, claims: new ClaimCounts([testSleep.name], logger) };

    // Only its end being written when asked; attempt 2 running when the answer came.
    const claimedAgain = heldOf(task.id, { before: undefined, after: { attempt: 2 } });
    await heartbeat(registration, 10_000, claimedAgain.held, activity);
    expect(claimedAgain.lost).toEqual([]);

    // Another attempt under the same number by the answer (reclaimed before its start was
    // recorded, claimed again here): not the one the renewal judged.
    const sameNumber = heldOf(task.id, { before: { attempt: 1 }, after: { attempt: 1 } });
    await heartbeat(registration, 10_000, sameNumber.held, activity);
    expect(sameNumber.lost).toEqual([]);

    // Held as the same attempt before and after, and not renewed: lost.
    const attempt = { attempt: 1 };
    const gone = heldOf(task.id, { before: attempt, after: attempt });
    await heartbeat(registration, 10_000, gone.held, activity);
    expect(gone.lost).toEqual([task.id]);
  });

  it('counts a lease from a renewal only when it renewed it', async () => {
    const app = await h.startApp();
    const ownerId = await adminUserId();
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId });
    const registration = { id: 'test-renewal', hostname: 'test', pid: 1, concurrency: 1 };
    await db().$executeRaw`
      UPDATE tasks SET status = 'RUNNING', "lockedBy" = ${registration.id},
        "lockedUntil" = now() + interval '10 seconds'
      WHERE id = ${task.id}::uuid`;
    const activity = { busySlots: 0, claims: new ClaimCounts([testSleep.name], logger) };
    const renewals: Array<{ taskId: string; sentAt: number }> = [];
    const lost: string[] = [];
    const holding = { attempt: 1 };
    const held: HeldTasks = {
      ids: () => [task.id],
      heldAs: () => holding,
      cancel: () => undefined,
      lost: (id) => void lost.push(id),
      renewed: (taskId, sentAt) => void renewals.push({ taskId, sentAt }),
    };

    // Its row locked by another transaction (one taking it back, for all the renewal knows):
    // still held, but its lease runs from before, not from this renewal.
    const row = await holdRow(h, 'SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [task.id]);
    await heartbeat(registration, 10_000, held, activity);
    expect({ renewals, lost }).toEqual({ renewals: [], lost: [] });

    await row.release();
    const before = Date.now();
    await heartbeat(registration, 10_000, held, activity);
    expect(renewals.map((renewal) => renewal.taskId)).toEqual([task.id]);
    expect(renewals[0].sentAt).toBeGreaterThanOrEqual(before);
    expect(lost).toEqual([]);
  });
});

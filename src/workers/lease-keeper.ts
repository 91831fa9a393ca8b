// Leases: a worker renews its own on every heartbeat (and learns there which of its tasks were
// asked to stop, the cancel poll behind the Redis push), and takes back the tasks of workers
// whose leases expired (they died, froze or were cut off).
import { db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import { reclaimExpiredLeases } from '../queue/reclaim-expired.js';
import { renewLeases } from '../queue/renew-leases.js';
import { announceTaskEvent } from '../queue/signals.js';
import type { RunningTasks } from './running-tasks.js';

export interface WorkerRegistration {
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
}

/** Marks the worker alive, renews its leases, and stops the attempts it no longer holds or that were cancelled. */
export async function heartbeat(
  registration: WorkerRegistration,
  leaseMs: number,
  running: RunningTasks,
): Promise<void> {
  const { id } = registration;
  await db().worker.upsert({
    where: { id },
    create: registration,
    update: { lastHeartbeatAt: new Date() },
  });
  if (running.size === 0) return;
  // Only tasks started before the renewal are judged: one claimed while it ran is missing
  // from its answer without having lost anything (that dropped good attempts).
  const before = running.ids();
  const held = await renewLeases(db(), id, leaseMs);
  const heldIds = new Set(held.map((row) => row.id));
  for (const row of held) if (row.cancellationRequested) running.stop(row.id, 'cancelled');
  for (const taskId of before)
    if (running.has(taskId) && !heldIds.has(taskId)) running.stop(taskId, 'lease-lost');
}

/** Requeues (or dead-letters) tasks whose lease expired, and announces their new event. */
export async function reclaimExpired(pubsub: PubSub, log: Logger): Promise<void> {
  const reclaimed = await reclaimExpiredLeases(db());
  for (const task of reclaimed) {
    log.warn({ taskId: task.id, status: task.status }, 'reclaimed a task whose lease expired');
    const row = await db().task.findUnique({
      where: { id: task.id },
      select: { id: true, lastSequence: true },
    });
    if (row) await announceTaskEvent(pubsub, row);
  }
}

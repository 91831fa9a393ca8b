// Leases: a worker renews its own on every heartbeat, those of its running tasks and of the
// tasks waiting in its local queue (and learns there which were asked to stop, the cancel poll
// behind the Redis push), and takes back the tasks of workers whose leases expired (they
// died, froze or were cut off).
import { poolQueryable } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub, PushedCancellation } from '../platform/pubsub.js';
import { reclaimExpiredLeases } from '../queue/reclaim-expired.js';
import { renewLeases } from '../queue/renew-leases.js';
import { announceTaskEvent } from '../queue/signals.js';
import { writeWorkerHeartbeat } from '../queue/worker-heartbeat.js';
import type { ClaimCounts } from './claim-counts.js';

export interface WorkerRegistration {
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
}

/** What the heartbeat judges: the tasks this worker holds, running or waiting. */
export interface HeldTasks {
  /** Ids of the tasks running and waiting now. */
  ids(): string[];
  /**
   * The task's attempt held here, running or waiting, as an object that is the same for as
   * long as that attempt is held (another is another, even under the same attempt number: a
   * task reclaimed before its start was recorded gets its number back); undefined: none (it
   * may have ended while the renewal ran, or be only an end being written).
   */
  heldAs(taskId: string): object | undefined;
  /**
   * Asked to stop: cancel them, together. `sequence` (a pushed cancellation's): a task's log
   * position when it was asked for; a run claimed at or past it is not concerned. None: it is.
   */
  cancel(tasks: readonly PushedCancellation[]): void;
  /** No longer this worker's: drop it. */
  lost(taskId: string): void;
  /** Its lease was renewed by a statement sent at `sentAt` (Date.now()). */
  renewed(taskId: string, sentAt: number): void;
}

/**
 * Marks the worker alive with its busy slots and its claim counts since the last heartbeat
 * (one statement), renews its leases, and stops what it no longer holds or was cancelled.
 */
export async function heartbeat(
  registration: WorkerRegistration,
  leaseMs: number,
  held: HeldTasks,
  activity: { busySlots: number; claims: ClaimCounts },
): Promise<void> {
  const { id } = registration;
  const counts = activity.claims.take();
  await writeWorkerHeartbeat(poolQueryable(), {
    ...registration,
    busySlots: activity.busySlots,
    ...counts,
  }).catch((error: unknown) => {
    activity.claims.giveBack(counts);
    throw error;
  });
  // Only tasks held before the renewal are judged: one claimed while it ran is missing
  // from its answer without having lost anything (that dropped good attempts).
  // And only as held then: a task whose end was being written (a retry), claimed again while
  // the renewal ran, holds a new attempt the renewal never saw.
  const before = held.ids();
  if (before.length === 0) return;
  const holdings = before.map((taskId) => held.heldAs(taskId));
  // On the pool past Prisma, as a turn's statements: through Prisma a renewal of 1,000 leases
  // cost 3.7 ms of Node's CPU against 1.3, and a new worker's first ones 32 ms (compiling).
  // Renewed, or locked by another transaction at that moment (renewed at the next beat): still held.
  const sentAt = Date.now();
  const stillHeld = await renewLeases(poolQueryable(), id, leaseMs, before);
  const heldIds = new Set(stillHeld.map((row) => row.id));
  for (const row of stillHeld) {
    // Only a renewed lease runs from this statement: a skipped one (its row locked by another
    // transaction) may be one being taken back.
    if (row.renewed) held.renewed(row.id, sentAt);
  }
  held.cancel(
    stillHeld.filter((row) => row.cancellationRequested).map((row) => ({ taskId: row.id })),
  );
  before.forEach((taskId, i) => {
    const holding = held.heldAs(taskId);
    if (holding !== undefined && holding === holdings[i] && !heldIds.has(taskId)) held.lost(taskId);
  });
}

/** Requeues (or dead-letters) tasks whose lease expired, and announces their new event. */
export async function reclaimExpired(
  pubsub: PubSub,
  log: Logger,
  maxLeaseLosses: number,
): Promise<void> {
  const reclaimed = await reclaimExpiredLeases(poolQueryable(), maxLeaseLosses);
  for (const task of reclaimed) {
    log.warn({ taskId: task.id, status: task.status }, 'reclaimed a task whose lease expired');
    await announceTaskEvent(pubsub, task);
  }
}

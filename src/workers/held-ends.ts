// Ends that wait for a claim to be written with (turns.ts, TASK_END_HOLD_MS): which wait now,
// and when the first one's wait is over; and ends their commit put off.
import type { TaskChange } from '../queue/write-changes.js';
import type { PendingEnd, Turn } from './turn-types.js';

/** An end put off by its commit is tried again after this, doubling each time it is put off again. */
const PUT_OFF_MIN_MS = 2;
const PUT_OFF_MAX_MS = 200;

/**
 * Ends a turn's commit put off (another commit's locks): back in line (`waiting`) unwritten, as
 * a failed turn's, each not before its wait is over.
 */
export function putOff(
  turn: Turn,
  deferred: ReadonlySet<string>,
  waiting: Map<string, PendingEnd>,
): void {
  const now = Date.now();
  for (const taskId of deferred) {
    const end = turn.ends.get(taskId);
    if (!end) continue;
    turn.ends.delete(taskId);
    const times = (end.putOff?.times ?? 0) + 1;
    const delay = Math.min(PUT_OFF_MAX_MS, PUT_OFF_MIN_MS * 2 ** (times - 1));
    end.putOff = { times, until: now + delay };
    if (waiting.has(taskId)) end.resolve(undefined);
    else waiting.set(taskId, end);
  }
}

/** Whether the end waits for a claim now (none does while the worker stops). */
export const isHeld = (end: PendingEnd, now: number, stopping: boolean): boolean =>
  !stopping && end.heldUntil !== undefined && end.heldUntil > now;

/** Whether some end does not wait. */
export function someNotHeld(ends: Iterable<PendingEnd>, now: number, stopping: boolean): boolean {
  for (const end of ends) if (!isHeld(end, now, stopping)) return true;
  return false;
}

/** Whether the changes are all ends (of `ends`) that wait. */
export function onlyHeld(
  changes: readonly TaskChange[],
  ends: ReadonlyMap<string, PendingEnd>,
  now: number,
  stopping: boolean,
): boolean {
  return changes.length === ends.size && !someNotHeld(ends.values(), now, stopping);
}

/** When the first held end's wait is over; undefined: none waits. */
export function firstHeldUntil(ends: Iterable<PendingEnd>): number | undefined {
  let first: number | undefined;
  for (const end of ends)
    if (end.heldUntil !== undefined) first = Math.min(first ?? Infinity, end.heldUntil);
  return first;
}

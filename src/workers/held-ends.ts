// Ends that wait for a claim to be written with (turns.ts, TASK_END_HOLD_MS): which wait now,
// and when the first one's wait is over.
import type { TaskChange } from '../queue/write-changes.js';
import type { PendingEnd } from './turn-types.js';

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

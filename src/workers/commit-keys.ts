// The commit keys of a worker's hooked ends (FinishHook.keyOf: the rows their commit locks, a
// workflow step's workflow). One key's ends go in one turn at a time; the keys waiting are
// shared among the hooked turns that can run together, so that one worker's hooked commits
// (each a transaction its slots would otherwise wait through) overlap: PostgreSQL writes one
// while the worker runs what another claimed.
import type { ClaimedTaskRow } from '../queue/task-row.js';

type KeyOf = (task: ClaimedTaskRow) => string | undefined;

function keysOf(ends: Iterable<{ task: ClaimedTaskRow }>, keyOf: KeyOf): Set<string> {
  const keys = new Set<string>();
  for (const end of ends) {
    const key = keyOf(end.task);
    if (key !== undefined) keys.add(key);
  }
  return keys;
}

/**
 * The keys one of `turns` turns starting together writes, `ends` cut to them (the others stay
 * waiting for the next): the keys of the ends waiting longest first (a Map keeps the order they
 * came in), a `turns`-th of them rounded up.
 */
export function shareOfKeys(
  ends: Map<string, { task: ClaimedTaskRow }>,
  keyOf: KeyOf,
  turns: number,
): Set<string> {
  const keys = keysOf(ends.values(), keyOf);
  if (keys.size <= 1 || turns <= 1) return keys;
  const share = new Set([...keys].slice(0, Math.ceil(keys.size / turns)));
  for (const [taskId, end] of ends) {
    const key = keyOf(end.task);
    if (key !== undefined && !share.has(key)) ends.delete(taskId);
  }
  return share;
}

// Whether due PENDING tasks of these types remain: read after a claim that came back with
// fewer tasks than it asked for, to tell a drained queue from a claim conflict (rows another
// worker's claim held locked, which SKIP LOCKED passed over). Off the claim order's index: the
// first row in the claim's order, not EXISTS (which drops an ORDER BY). Statistics taken while
// a burst waited call most tasks PENDING; an EXISTS planned on them scanned the whole table for
// the first PENDING row (11 ms over 40,000 finished tasks, bench/README.md "Workflows"), where
// the order puts the partial index first whatever the estimate.
import { PREPARED, type Queryable } from '../platform/db.js';

export async function dueTasksRemain(
  client: Queryable,
  types: readonly string[],
): Promise<boolean> {
  const rows = await client.$queryRaw<Array<{ due: boolean }>>`${PREPARED}
    SELECT true AS due FROM tasks
    WHERE status = 'PENDING' AND "runAt" <= now() AND type = ANY(${types}::text[])
    ORDER BY priority, "runAt", "createdAt", id
    LIMIT 1`;
  return rows.length > 0;
}

// Whether due PENDING tasks of these types remain: read after a claim that came back with
// fewer tasks than it asked for, to tell a drained queue from a claim conflict (rows another
// worker's claim held locked, which SKIP LOCKED passed over). Off the claim order's index.
import { PREPARED, type Queryable } from '../platform/db.js';

export async function dueTasksRemain(
  client: Queryable,
  types: readonly string[],
): Promise<boolean> {
  const [row] = await client.$queryRaw<Array<{ due: boolean }>>`${PREPARED}
    SELECT EXISTS (
      SELECT 1 FROM tasks
      WHERE status = 'PENDING' AND "runAt" <= now() AND type = ANY(${types}::text[])
    ) AS due`;
  return row?.due ?? false;
}

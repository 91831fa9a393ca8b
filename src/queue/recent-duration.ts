// Mean run time of the last finished tasks of a type, in ms: what estimates of when a task
// should be done start from.
import type { Queryable } from '../platform/db.js';

export async function selectRecentDurationMs(
  client: Queryable,
  type: string,
): Promise<number | null> {
  const [row] = await client.$queryRaw<Array<{ ms: number | null }>>`
    SELECT avg(extract(epoch FROM "completedAt" - "startedAt") * 1000)::float8 AS ms FROM (
      SELECT "startedAt", "completedAt" FROM tasks
      WHERE type = ${type} AND status = 'COMPLETED' AND "startedAt" IS NOT NULL AND "completedAt" IS NOT NULL
      ORDER BY "completedAt" DESC LIMIT 20
    ) recent`;
  return row?.ms ?? null;
}

// A pending task's place in the queue: 1-based, in the claim order (priority, runAt,
// createdAt, id) among PENDING tasks; null for a task that is not pending.
import type { Queryable } from '../platform/db.js';

export async function selectQueuePosition(
  client: Queryable,
  taskId: string,
): Promise<number | null> {
  const [row] = await client.$queryRaw<Array<{ position: number | null }>>`
    SELECT CASE WHEN t.status = 'PENDING' THEN (
      SELECT count(*)::int + 1 FROM tasks o
      WHERE o.status = 'PENDING'
        AND (o.priority, o."runAt", o."createdAt", o.id) < (t.priority, t."runAt", t."createdAt", t.id)
    ) END AS position
    FROM tasks t WHERE t.id = ${taskId}::uuid`;
  return row?.position ?? null;
}

// A running task handed back at shutdown: PENDING again, in its old place (runAt unchanged),
// and the attempt does not count. Only while this worker still holds it.
import type { Queryable } from '../platform/db.js';

export async function handBackTask(
  client: Queryable,
  taskId: string,
  workerId: string,
): Promise<boolean> {
  const rows = await client.$queryRaw<Array<{ id: string }>>`
    WITH updated AS (
      UPDATE tasks
      SET status = 'PENDING', attempts = greatest(attempts - 1, 0), "lockedBy" = NULL, "lockedUntil" = NULL,
          "currentStep" = 'requeued', "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep", 'handed back: the worker is shutting down' FROM updated
    )
    SELECT id FROM updated`;
  return rows.length > 0;
}

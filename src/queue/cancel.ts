// Cancel: a PENDING task ends CANCELLED at once (it will never be claimed); a RUNNING one
// is flagged, and its worker aborts it. Returns the row after the change, or the
// unchanged row when it had already finished.
import type { Queryable } from '../platform/db.js';
import type { TaskRow } from './task-row.js';

export async function requestCancellation(
  client: Queryable,
  taskId: string,
): Promise<{ task: TaskRow; changed: boolean } | undefined> {
  const rows = await client.$queryRaw<Array<TaskRow & { changed: boolean }>>`
    WITH updated AS (
      UPDATE tasks
      SET status = CASE WHEN status = 'PENDING' THEN 'CANCELLED'::"TaskStatus" ELSE status END,
          "completedAt" = CASE WHEN status = 'PENDING' THEN now() ELSE "completedAt" END,
          "currentStep" = CASE WHEN status = 'PENDING' THEN 'cancelled' ELSE "currentStep" END,
          "cancellationRequested" = true,
          "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status IN ('PENDING', 'RUNNING')
        AND NOT ("status" = 'RUNNING' AND "cancellationRequested")
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'CANCELLED' THEN 'cancelled before it ran' ELSE 'cancellation requested' END
      FROM updated
    )
    SELECT *, true AS changed FROM updated
    UNION ALL
    SELECT *, false AS changed FROM tasks WHERE id = ${taskId}::uuid AND NOT EXISTS (SELECT 1 FROM updated)`;
  const row = rows[0];
  if (!row) return undefined;
  const { changed, ...task } = row;
  return { task, changed };
}

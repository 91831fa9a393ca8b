// An operator's retry of a finished task: back to PENDING with fresh attempts, with its event.
import type { Queryable } from '../platform/db.js';
import type { TaskRow } from './task-row.js';

export async function retryFinishedTask(
  client: Queryable,
  taskId: string,
): Promise<TaskRow | undefined> {
  const rows = await client.$queryRaw<TaskRow[]>`
    WITH updated AS (
      UPDATE tasks
      SET status = 'PENDING', attempts = 0, "leaseLosses" = 0, "runAt" = now(), error = NULL,
          result = NULL, "completedAt" = NULL,
          "startedAt" = NULL, "cancellationRequested" = false, "progressPercent" = 0, "currentStep" = 'queued',
          "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status IN ('FAILED', 'DEAD', 'TIMEOUT', 'CANCELLED')
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, 0, 'queued', 'retried by an operator' FROM updated
    )
    SELECT * FROM updated`;
  return rows[0];
}

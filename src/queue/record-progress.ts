// Progress of a running task, with its event; only while this worker still holds it.
// Returns the event written (none: the worker no longer holds the task).
import { PREPARED, type Queryable } from '../platform/db.js';
import { eventJson, type TaskEventJson } from './task-row.js';

export async function recordProgress(
  client: Queryable,
  taskId: string,
  workerId: string,
  percent: number,
  step: string | null,
): Promise<TaskEventJson | undefined> {
  const rows = await client.$queryRaw<Array<{ event: TaskEventJson }>>`${PREPARED}
    WITH updated AS (
      UPDATE tasks
      SET "progressPercent" = ${percent}, "currentStep" = ${step}, "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING id, "lastSequence", status, "progressPercent", "currentStep"
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep")
      SELECT id, "lastSequence", status, "progressPercent", "currentStep" FROM updated
      RETURNING *
    )
    SELECT ${eventJson('event')} AS event FROM event`;
  return rows[0]?.event;
}

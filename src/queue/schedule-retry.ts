// A transient failure: back to PENDING with the next attempt's runAt computed here, in
// SQL (exponential backoff with full jitter, capped), or DEAD once attempts are used up.
import type { Queryable } from '../platform/db.js';
import type { TaskRow } from './task-row.js';

export async function scheduleRetryOrDeadLetter(
  client: Queryable,
  taskId: string,
  workerId: string,
  error: string,
  backoffBaseMs: number,
  backoffMaxMs: number,
): Promise<TaskRow | undefined> {
  const rows = await client.$queryRaw<TaskRow[]>`
    WITH updated AS (
      UPDATE tasks
      SET status = CASE WHEN attempts >= "maxAttempts" THEN 'DEAD'::"TaskStatus" ELSE 'PENDING'::"TaskStatus" END,
          "runAt" = now() + least(${backoffMaxMs}::float8, ${backoffBaseMs}::float8 * power(2, attempts - 1))
                            * (0.5 + random() / 2) * interval '1 millisecond',
          "completedAt" = CASE WHEN attempts >= "maxAttempts" THEN now() END,
          error = ${error}, "lockedBy" = NULL, "lockedUntil" = NULL,
          "currentStep" = CASE WHEN attempts >= "maxAttempts" THEN 'dead' ELSE 'waiting to retry' END,
          "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'DEAD' THEN 'attempts exhausted: ' || error
                  ELSE 'attempt ' || attempts || ' failed, retry at ' || to_char("runAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END
      FROM updated
    )
    SELECT * FROM updated`;
  return rows[0];
}

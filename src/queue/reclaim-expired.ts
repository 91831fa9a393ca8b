// Tasks whose worker stopped renewing its lease (killed, frozen, cut off): back to
// PENDING for another worker, or DEAD when that was the last attempt. A task taken back
// keeps its runAt, so its place in the claim order (priority, runAt, createdAt): it runs
// before the work enqueued after it, not behind it.
import type { Queryable } from '../platform/db.js';

export async function reclaimExpiredLeases(
  client: Queryable,
): Promise<Array<{ id: string; status: string }>> {
  return client.$queryRaw`
    WITH expired AS (
      SELECT id FROM tasks WHERE status = 'RUNNING' AND "lockedUntil" < now()
      FOR UPDATE SKIP LOCKED
    ),
    updated AS (
      UPDATE tasks t
      SET status = CASE WHEN t.attempts >= t."maxAttempts" THEN 'DEAD'::"TaskStatus" ELSE 'PENDING'::"TaskStatus" END,
          "completedAt" = CASE WHEN t.attempts >= t."maxAttempts" THEN now() END,
          error = CASE WHEN t.attempts >= t."maxAttempts" THEN 'the worker stopped (lease expired) on the last attempt' ELSE t.error END,
          "lockedBy" = NULL, "lockedUntil" = NULL,
          "currentStep" = CASE WHEN t.attempts >= t."maxAttempts" THEN 'dead' ELSE 'requeued' END,
          "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
      FROM expired WHERE t.id = expired.id
      RETURNING t.*
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'DEAD' THEN 'lease expired on the last attempt: dead' ELSE 'lease expired: the worker stopped; requeued' END
      FROM updated
    )
    SELECT id, status::text FROM updated`;
}

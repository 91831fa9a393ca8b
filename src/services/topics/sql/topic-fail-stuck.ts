// Topics left GENERATING by a generation that ended without saying so — its task was
// cancelled while pending, dead-lettered by a lease reclaim, or deleted — become FAILED
// with the task's error. One topic (on read) or all (the workers' periodic clean-up).
import type { Queryable } from '../../../platform/db.js';

export function failStuckTopics(
  client: Queryable,
  topicId: string | null,
): Promise<Array<{ id: string }>> {
  return client.$queryRaw<Array<{ id: string }>>`
    WITH stuck AS (
      SELECT t.id, k.status AS "taskStatus", k.error
      FROM topics t LEFT JOIN tasks k ON k.id = t."taskId"
      WHERE t.status = 'GENERATING' AND (${topicId}::uuid IS NULL OR t.id = ${topicId}::uuid)
        AND (k.id IS NULL OR k.status IN ('FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'))
      FOR UPDATE OF t SKIP LOCKED
    )
    UPDATE topics t
    SET status = 'FAILED',
        "errorMessage" = CASE
          WHEN s."taskStatus" IS NULL THEN 'the generation task no longer exists'
          WHEN s."taskStatus" = 'CANCELLED' THEN 'generation cancelled'
          WHEN s."taskStatus" IN ('FAILED', 'DEAD') AND s.error IS NOT NULL
            THEN 'report generation failed: ' || s.error
          ELSE coalesce(s.error, 'generation ' || lower(s."taskStatus"::text)) END,
        "currentStep" = 'failed', "completedAt" = now(), "estimatedCompletion" = NULL, "updatedAt" = now()
    FROM stuck s WHERE t.id = s.id
    RETURNING t.id`;
}

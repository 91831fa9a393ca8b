// Ended workflows whose end is not sent yet, marked sent in the same statement: whichever
// process runs it first sends the end, once (a retried run that ends again is sent again:
// its completedAt is new). `ids` null: every such workflow (the reconciler's sweep).
import { PREPARED, type Queryable } from '../../../platform/db.js';

export interface EndedWorkflowToNotify {
  id: string;
  teamId: string;
  ownerId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  error: string | null;
  goal: string;
  completedAt: Date;
  webhookUrl: string | null;
  webhookEndpointId: string | null;
  failedSteps: Array<{ key: string; kind: string; error: string | null }>;
}

export function claimEndedUnnotified(
  client: Queryable,
  ids: readonly string[] | null,
): Promise<EndedWorkflowToNotify[]> {
  return client.$queryRaw<EndedWorkflowToNotify[]>`${PREPARED}
    WITH claimed AS (
      UPDATE workflows w SET "endNotifiedAt" = w."completedAt"
      WHERE w.id IN (
          SELECT id FROM workflows
          WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND "completedAt" IS NOT NULL
            AND "endNotifiedAt" IS DISTINCT FROM "completedAt"
            AND (${ids as string[] | null}::uuid[] IS NULL OR id = ANY(${ids as string[] | null}::uuid[]))
          ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED)
      RETURNING w.id, w."teamId", w."ownerId", w.status::text AS status, w.error, w.goal,
                w."completedAt"::timestamptz AS "completedAt", w."webhookUrl", w."webhookEndpointId"
    )
    SELECT c.*, coalesce((
      SELECT jsonb_agg(jsonb_build_object('key', s.key, 'kind', s.kind::text, 'error', s.error)
                       ORDER BY s.position, s.key)
      FROM workflow_steps s WHERE s."workflowId" = c.id AND s.status = 'FAILED'), '[]'::jsonb)
      AS "failedSteps"
    FROM claimed c`;
}

// The recent actuals of each step kind, per unit of complexity (the last 50 succeeded steps of
// the kind, of every team: run times are a property of the deployment), for estimates.
import type { Queryable } from '../../../platform/db.js';

export async function selectRecentActuals(
  client: Queryable,
): Promise<Array<{ kind: string; seconds: number; tokens: number }>> {
  return client.$queryRaw`
    SELECT k.kind::text AS kind, avg(r.seconds)::float8 AS seconds, avg(r.tokens)::float8 AS tokens
    FROM unnest(enum_range(NULL::"WorkflowStepKind")) AS k(kind)
    CROSS JOIN LATERAL (
      SELECT (s.actual->>'seconds')::float8 / s.complexity AS seconds,
             (s.actual->>'tokens')::float8 / s.complexity AS tokens
      FROM workflow_steps s
      WHERE s.kind = k.kind AND s.status = 'SUCCEEDED' AND s.actual ? 'seconds'
      ORDER BY s."completedAt" DESC
      LIMIT 50
    ) r
    GROUP BY k.kind`;
}

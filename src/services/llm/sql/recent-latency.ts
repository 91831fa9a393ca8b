// The median time to first token of each deployment's last 10 answered calls of the last
// five minutes (routingSnapshot, for deployments this process has not called itself).
import type { Queryable } from '../../../platform/db.js';

export async function selectRecentLatency(
  client: Queryable,
  deploymentIds: string[],
): Promise<Map<string, number>> {
  if (deploymentIds.length === 0) return new Map();
  const rows = await client.$queryRaw<Array<{ deploymentId: string; p50: number }>>`
    SELECT "deploymentId", percentile_cont(0.5) WITHIN GROUP (ORDER BY "timeToFirstTokenMs")::float8 AS p50
    FROM (
      SELECT c."deploymentId", c."timeToFirstTokenMs",
             row_number() OVER (PARTITION BY c."deploymentId" ORDER BY c."createdAt" DESC) AS n
      FROM llm_calls c
      WHERE c."deploymentId" = ANY(${deploymentIds}::uuid[]) AND c.outcome = 'OK'
        AND c."createdAt" > now() - interval '5 minutes'
    ) recent WHERE n <= 10 GROUP BY "deploymentId"`;
  return new Map(rows.map((row) => [row.deploymentId, row.p50]));
}

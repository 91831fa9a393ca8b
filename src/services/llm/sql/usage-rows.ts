// llmUsage: the calls of a time range, grouped by what the caller asked (deployment, model,
// UTC day, API key, service), over the teams it may read; behind llm_calls' (teamId,
// createdAt) index. The grouping columns come from a fixed table, never from the caller.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';

export type UsageGroup = 'DEPLOYMENT' | 'MODEL' | 'DAY' | 'API_KEY' | 'SERVICE';

const DAY = `date_trunc('day', c."createdAt" AT TIME ZONE 'UTC')`;

const COLUMNS: Record<UsageGroup, { select: string; group: string }> = {
  DEPLOYMENT: {
    select: 'c."deploymentId" AS "deploymentId", d.name AS "deploymentName"',
    group: 'c."deploymentId", d.name',
  },
  MODEL: { select: 'c.model AS model', group: 'c.model' },
  DAY: { select: `${DAY}::date::text AS day`, group: DAY },
  API_KEY: { select: 'c."apiKeyId" AS "apiKeyId"', group: 'c."apiKeyId"' },
  SERVICE: { select: 'c.service::text AS service', group: 'c.service' },
};

export interface UsageRow {
  deploymentId?: string | null;
  deploymentName?: string | null;
  model?: string;
  day?: string;
  apiKeyId?: string | null;
  service?: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export function selectUsageRows(
  client: Queryable,
  range: { from: Date; to: Date },
  teamIds: string[] | undefined,
  groupBy: UsageGroup[],
): Promise<UsageRow[]> {
  const selects = groupBy.map((group) => Prisma.raw(COLUMNS[group].select));
  const groups = groupBy.map((group) => Prisma.raw(COLUMNS[group].group));
  const teams = teamIds ? Prisma.sql`AND c."teamId" = ANY(${teamIds}::uuid[])` : Prisma.empty;
  return client.$queryRaw<UsageRow[]>`
    SELECT ${Prisma.join([...selects, Prisma.raw('count(*)::int AS calls')])},
           coalesce(sum(c."inputTokens"), 0)::float8 AS "inputTokens",
           coalesce(sum(c."outputTokens"), 0)::float8 AS "outputTokens",
           coalesce(sum(c."costUsd"), 0)::float8 AS "costUsd"
    FROM llm_calls c LEFT JOIN llm_deployments d ON d.id = c."deploymentId"
    WHERE c."createdAt" >= ${range.from} AND c."createdAt" < ${range.to} ${teams}
    ${groups.length ? Prisma.sql`GROUP BY ${Prisma.join(groups)} ORDER BY ${Prisma.join(groups)}` : Prisma.empty}
    LIMIT 1000`;
}

// How many agents' names contain the search: counted up to a cap (a scan that stops at cap + 1
// matches), past it the planner's estimate (agents_matching_estimate in the migrations).
// Counting a pattern that matches half of a million agents exactly reads them all.
import type { PrismaClient } from '../../../generated/prisma/client.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** The text with LIKE's wildcards and escape character escaped: its % and _ are characters. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `%text%` for ILIKE. */
export const containsPattern = (text: string) => `%${escapeLike(text)}%`;

export async function countAgentsByName(client: Queryable, pattern: string, cap: number): Promise<{ count: number; isEstimate: boolean }> {
  const [row] = await client.$queryRaw<Array<{ counted: number; estimate: number | null }>>`
    WITH capped AS (
      SELECT count(*)::int AS counted FROM (SELECT 1 FROM agents WHERE name ILIKE ${pattern} LIMIT ${cap + 1}) matches
    )
    SELECT counted, CASE WHEN counted > ${cap} THEN agents_matching_estimate(${pattern})::float8 END AS estimate FROM capped`;
  if (row!.estimate === null) return { count: row!.counted, isEstimate: false };
  return { count: Math.max(Math.round(row!.estimate), cap + 1), isEstimate: true };
}

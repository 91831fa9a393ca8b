// The agents whose names contain a search, for agents(search:): up to a cap, their ids (a
// scan that stops at cap + 1 matches, through the trigram index when the planner expects
// few); past it, only the planner's estimate of how many (agents_matching_estimate in the
// migrations). Counting a pattern that matches half of a million agents exactly reads them
// all. The ids serve the page too: walking the createdAt order with the pattern as a filter
// read 104,000 agents for a 4-digit fragment with 300 matches (41 ms); reading those 300 by
// id and sorting them takes a millisecond.
import type { PrismaClient } from '../../../generated/prisma/client.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** The text with LIKE's wildcards and escape character escaped: its % and _ are characters. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `%text%` for ILIKE. */
export const containsPattern = (text: string) => `%${escapeLike(text)}%`;

export interface NameMatches {
  /** Every matching agent's id, when there are at most `cap`. */
  ids: string[] | undefined;
  count: number;
  isEstimate: boolean;
}

export async function matchAgentsByName(client: Queryable, pattern: string, cap: number): Promise<NameMatches> {
  const [row] = await client.$queryRaw<Array<{ ids: string[]; estimate: number | null }>>`
    WITH capped AS MATERIALIZED (SELECT id FROM agents WHERE name ILIKE ${pattern} LIMIT ${cap + 1})
    SELECT ARRAY(SELECT id::text FROM capped) AS ids,
           CASE WHEN (SELECT count(*) FROM capped) > ${cap} THEN agents_matching_estimate(${pattern})::float8 END AS estimate`;
  if (row!.estimate === null) return { ids: row!.ids, count: row!.ids.length, isEstimate: false };
  return { ids: undefined, count: Math.max(Math.round(row!.estimate), cap + 1), isEstimate: true };
}

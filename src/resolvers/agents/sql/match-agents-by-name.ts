// The agents whose names contain a search, for agents(search:): up to a cap, their ids (a
// scan that stops at cap + 1 matches, through the trigram index when the planner expects
// few); past it, or when the planner expects far more, only its estimate of how many
// (agents_matching_estimate in the migrations). Counting a pattern that matches half of a
// million agents exactly reads them all. The ids serve the page too: walking the createdAt
// order with the pattern as a filter read 104,000 agents for a 4-digit fragment with 300
// matches (41 ms); reading those 300 by id and sorting them takes a millisecond.
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

/**
 * Past this many times the cap in the planner's estimate, the matches are not looked for: a
 * pattern of common words costs the trigram index 12–78 ms before its first match ("finance
 * auditor", 0.5 % of 1M agents, expected 3,003), where its estimate (2 ms) says they are
 * past the cap. The price: a pattern the planner overestimates that much (seen: 3.3x, a
 * 4-digit fragment expected 1,001, found 300) gets an estimate, and says so.
 */
const TRUSTED_ESTIMATE = 2;

export async function matchAgentsByName(
  client: Queryable,
  pattern: string,
  cap: number,
): Promise<NameMatches> {
  const [row] = await client.$queryRaw<Array<{ ids: string[]; estimate: number; counted: number }>>`
    WITH estimate AS MATERIALIZED (SELECT agents_matching_estimate(${pattern})::float8 AS rows),
    capped AS MATERIALIZED (
      SELECT id FROM agents WHERE name ILIKE ${pattern} AND (SELECT rows FROM estimate) < ${cap * TRUSTED_ESTIMATE}
      LIMIT ${cap + 1}
    )
    SELECT ARRAY(SELECT id::text FROM capped) AS ids, (SELECT rows FROM estimate) AS estimate, (SELECT count(*) FROM capped)::int AS counted`;
  const { ids, estimate, counted } = row!;
  if (estimate < cap * TRUSTED_ESTIMATE && counted <= cap)
    return { ids, count: counted, isEstimate: false };
  return { ids: undefined, count: Math.max(Math.round(estimate), cap + 1), isEstimate: true };
}

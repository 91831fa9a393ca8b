// The agents whose names contain a search, among the caller's teams, for agents(search:):
// up to a cap, their ids (a
// scan that stops at cap + 1 matches, through the trigram index when the planner expects
// few); past it, or when the planner expects far more, only its estimate of how many
// (agents_matching_estimate in the migrations). Counting a pattern that matches half of a
// million agents exactly reads them all. The ids serve the page too: walking the createdAt
// order with the pattern as a filter reads many agents per match of a rare pattern, where
// reading the few matches by id and sorting them is cheap (bench/README.md).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';

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
 * pattern of common words costs the trigram index far more before its first match than the
 * estimate, which already says they are past the cap. The price: a pattern the planner
 * overestimates that much gets an estimate, and says so (bench/README.md).
 */
const TRUSTED_ESTIMATE = 2;

/** `teams`: the teams whose agents count (undefined: every team, the operator's view). */
export async function matchAgentsByName(
  client: Queryable,
  pattern: string,
  cap: number,
  teams: readonly string[] | undefined,
): Promise<NameMatches> {
  const teamIds = teams ? [...teams] : null;
  // Written only when there are teams: `$1 IS NULL OR "teamId" = ANY ($1)` would keep the
  // planner off the teamId index, and scan every team's agents.
  const inTeams = teamIds ? Prisma.sql`AND "teamId" = ANY (${teamIds}::uuid[])` : Prisma.empty;
  const [row] = await client.$queryRaw<Array<{ ids: string[]; estimate: number; counted: number }>>`
    WITH estimate AS MATERIALIZED (SELECT agents_matching_estimate(${pattern}, ${teamIds}::uuid[])::float8 AS rows),
    capped AS MATERIALIZED (
      SELECT id FROM agents
      WHERE name ILIKE ${pattern} ${inTeams} AND (SELECT rows FROM estimate) < ${cap * TRUSTED_ESTIMATE}
      LIMIT ${cap + 1}
    )
    SELECT ARRAY(SELECT id::text FROM capped) AS ids, (SELECT rows FROM estimate) AS estimate,
           (SELECT count(*) FROM capped)::int AS counted`;
  const { ids, estimate, counted } = row!;
  if (estimate < cap * TRUSTED_ESTIMATE && counted <= cap)
    return { ids, count: counted, isEstimate: false };
  return { ids: undefined, count: Math.max(Math.round(estimate), cap + 1), isEstimate: true };
}

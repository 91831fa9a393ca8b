// A first lower bound of the k-th score: each term's best postings in the scope, summed per
// chunk; the chunks with the largest sums scored exactly (random access to each term's
// posting). k chunks are known to reach the k-th largest exact score among them (of those
// passing the filter). The sums alone fall far short for two words that seldom meet in their
// best postings, and so would the floors taken from them.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { postingInScope, tfWeight, type ExhaustiveSearch } from './ranking-fragments.js';

/** Chunks with the largest sums that are scored exactly. */
const SCORED = 256;

export interface Seed {
  /** The k-th largest partial score, or 0 with fewer than k chunks. */
  theta: number;
  /** Per term, the impact of its best posting in the scope (0 for none): what bounds its weight. */
  topImpacts: number[];
}

export async function seedThreshold(
  client: Queryable,
  search: ExhaustiveSearch,
  depth: number,
): Promise<Seed> {
  const [row] = await client.$queryRaw<Seed[]>`
    WITH q AS (SELECT * FROM unnest(${search.terms}::text[], ${search.weights}::float8[])
               WITH ORDINALITY AS q(term, weight, i)),
    best AS (
      SELECT q.i, p."chunkId", p.impact,
             q.weight * ${tfWeight(Prisma.sql`p.tf`, Prisma.sql`p.dl`, search.averageLength)} AS weight
      FROM q CROSS JOIN LATERAL (
        SELECT p."chunkId", p.tf, p.dl, p.impact FROM search_postings p
        WHERE p.term = q.term AND ${postingInScope(Prisma.sql`p."classId"`, search.scopeNodeIds)}
        ORDER BY p.impact DESC, p."chunkId" DESC
        LIMIT ${depth}
      ) p
    ),
    partial AS (SELECT "chunkId" FROM best GROUP BY "chunkId" ORDER BY sum(weight) DESC LIMIT ${SCORED}),
    exact AS (
      SELECT p."chunkId", (
        SELECT sum(q.weight * ${tfWeight(Prisma.sql`o.tf`, Prisma.sql`o.dl`, search.averageLength)})
        FROM q JOIN search_postings o ON o.term = q.term AND o."chunkId" = p."chunkId"
      ) AS score
      FROM partial p ORDER BY score DESC OFFSET 0
    )
    SELECT
      coalesce((
        SELECT o.score FROM exact o
        WHERE ${search.filter}::tsquery IS NULL
           OR EXISTS (SELECT 1 FROM chunks c WHERE c.id = o."chunkId" AND c.tsv @@ ${search.filter}::tsquery)
        OFFSET ${search.limit - 1} LIMIT 1
      ), 0)::float8 AS theta,
      ARRAY(SELECT coalesce((SELECT max(b.impact) FROM best b WHERE b.i = q.i), 0)::float8 FROM q ORDER BY q.i)
        AS "topImpacts"`;
  return row!;
}

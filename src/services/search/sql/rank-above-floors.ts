// The chunks with at least one term above its floor (floors.ts), found through the impact
// order (an index range per term, the exact weight checked on each posting), then scored
// exactly: the weights read there, plus random access to the chunk's other terms' postings. Too many postings
// above the floors (many words, θ far below their largest weights together): it says so
// after reading a bounded number, and the caller ranks another way.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { WEIGHT_MARGIN, type TermFloor } from '../floors.js';
import { postingInScope, tfWeight, type ExhaustiveSearch } from './ranking-fragments.js';

/** The top k, or undefined when more than `maxPostings` postings are above the floors. */
export async function rankAboveFloors(
  client: Queryable,
  search: ExhaustiveSearch,
  floors: Array<TermFloor | null>,
  maxPostings: number,
): Promise<Array<{ chunkId: string; score: number }> | undefined> {
  const weigh = (p: string) =>
    tfWeight(Prisma.raw(`${p}.tf`), Prisma.raw(`${p}.dl`), search.averageLength);
  const floorWeights = floors.map((floor) => (floor ? floor.weight * (1 - WEIGHT_MARGIN) : null));
  // A floor above every impact (Infinity) reads nothing: as null, the term brings no chunk.
  const floorImpacts = floors.map((floor) =>
    floor && Number.isFinite(floor.impact) ? floor.impact : null,
  );
  const [row] = await client.$queryRaw<
    Array<{ overflow: boolean; ranked: Array<{ chunkId: string; score: number }> | null }>
  >`
    WITH q AS (
      SELECT * FROM unnest(${search.terms}::text[], ${search.weights}::float8[], ${floorWeights}::float8[],
                           ${floorImpacts}::float8[])
        WITH ORDINALITY AS q(term, weight, floor_weight, floor_impact, i)
    ),
    above AS MATERIALIZED (
      SELECT p."chunkId", q.i, q.weight * ${weigh('p')} AS weight
      FROM q JOIN search_postings p ON p.term = q.term AND p.impact >= q.floor_impact
      WHERE q.floor_impact IS NOT NULL
        AND q.weight * ${weigh('p')} >= q.floor_weight
        AND ${postingInScope(Prisma.sql`p."classId"`, search.scopeNodeIds)}
      LIMIT ${maxPostings + 1}
    ),
    overflow AS (SELECT count(*) > ${maxPostings} AS yes FROM above),
    -- The weights read above count as they are; only the chunk's other terms are fetched. The
    -- terms read are a bit mask: with array_agg the aggregate spilled to disk at work_mem's
    -- default.
    candidates AS (
      SELECT "chunkId", sum(weight) AS known, bit_or(1 << (i - 1)::int) AS read
      FROM above WHERE NOT (SELECT yes FROM overflow) GROUP BY "chunkId"
    ),
    scored AS (
      SELECT c."chunkId", c.known + coalesce((
        SELECT sum(q.weight * ${weigh('o')})
        FROM q JOIN search_postings o ON o.term = q.term AND o."chunkId" = c."chunkId"
        WHERE c.read & (1 << (q.i - 1)::int) = 0
      ), 0) AS score
      FROM candidates c
      ORDER BY score DESC, "chunkId"
      OFFSET 0
    ),
    top AS (
      SELECT s."chunkId", s.score FROM scored s
      WHERE ${search.filter}::tsquery IS NULL
         OR EXISTS (SELECT 1 FROM chunks c WHERE c.id = s."chunkId" AND c.tsv @@ ${search.filter}::tsquery)
      LIMIT ${search.limit}
    )
    SELECT (SELECT yes FROM overflow) AS overflow,
           (SELECT json_agg(json_build_object('chunkId', t."chunkId", 'score', t.score)
                            ORDER BY t.score DESC, t."chunkId")
            FROM top t) AS ranked`;
  return row!.overflow ? undefined : (row!.ranked ?? []);
}

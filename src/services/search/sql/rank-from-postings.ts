// Every match scored from the query terms' postings (the scope checked per posting), best
// first, with the number of matches: the way in when the terms have few postings.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { tfWeight, type ExhaustiveSearch, type RankedRow } from './ranking-fragments.js';

export function rankFromPostings(
  client: Queryable,
  search: ExhaustiveSearch,
): Promise<RankedRow[]> {
  return client.$queryRaw<RankedRow[]>`
    WITH q AS (SELECT * FROM unnest(${search.terms}::text[], ${search.weights}::float8[]) AS q(term, weight)),
    matches AS (
      SELECT p."chunkId", sum(q.weight * ${tfWeight(Prisma.sql`p.tf`, Prisma.sql`p.dl`, search.averageLength)}) AS score
      FROM q JOIN search_postings p ON p.term = q.term
      WHERE (SELECT s."ancestorIds" && ${search.scopeNodeIds}::uuid[] FROM search_classes s WHERE s.id = p."classId")
      GROUP BY p."chunkId"
    ),
    kept AS (
      SELECT m.* FROM matches m
      WHERE ${search.filter}::tsquery IS NULL
         OR EXISTS (SELECT 1 FROM chunks c WHERE c.id = m."chunkId" AND c.tsv @@ ${search.filter}::tsquery)
    )
    SELECT "chunkId"::text, score, (count(*) OVER ())::int AS total
    FROM kept ORDER BY score DESC, "chunkId" LIMIT ${search.limit}`;
}

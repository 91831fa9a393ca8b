// The matches of a filter that is one phrase of two adjacent words: exactly its pair's rows in
// the scope, which carry both words' tf and the chunk's length (scored from the pair index
// alone); only the query's other words are read from the postings.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import {
  postingInScope,
  tfWeight,
  type ExhaustiveSearch,
  type RankedRow,
} from './ranking-fragments.js';

export function rankPairPostings(
  client: Queryable,
  search: ExhaustiveSearch,
  pair: string,
): Promise<RankedRow[]> {
  const [first = '', second = ''] = pair.split(' ');
  const weightOf = (term: string) => search.weights[search.terms.indexOf(term)] ?? 0;
  // "data data": one word, counted once.
  const secondWeight = second === first ? 0 : weightOf(second);
  const others = search.terms
    .map((term, i) => ({ term, weight: search.weights[i]! }))
    .filter((t) => t.term !== first && t.term !== second);
  return client.$queryRaw<RankedRow[]>`
    WITH q AS (SELECT * FROM unnest(${others.map((t) => t.term)}::text[], ${others.map((t) => t.weight)}::float8[])
               AS q(term, weight)),
    matches AS (
      SELECT pp."chunkId",
             ${weightOf(first)}::float8 * ${tfWeight(Prisma.sql`pp."firstTf"`, Prisma.sql`pp.dl`, search.averageLength)}
             + ${secondWeight}::float8 * ${tfWeight(Prisma.sql`pp."secondTf"`, Prisma.sql`pp.dl`, search.averageLength)}
             + coalesce((SELECT sum(q.weight * ${tfWeight(Prisma.sql`p.tf`, Prisma.sql`p.dl`, search.averageLength)})
                         FROM q JOIN search_postings p ON p.term = q.term AND p."chunkId" = pp."chunkId"), 0) AS score
      FROM search_phrase_pairs pp
      WHERE pp.pair = ${pair} AND ${postingInScope(Prisma.sql`pp."classId"`, search.scopeNodeIds)}
    )
    SELECT "chunkId"::text, score, (count(*) OVER ())::int AS total
    FROM matches ORDER BY score DESC, "chunkId" LIMIT ${search.limit}`;
}

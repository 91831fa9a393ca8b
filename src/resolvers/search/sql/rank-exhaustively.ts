// Every match scored in one statement, best first, with the number of matches. Two ways in,
// whichever reads less: the query terms' postings (scope checked per posting), or the
// scope's chunks (found through the GIN index, weighed from their tsvector).
import { Prisma, type PrismaClient } from '../../../generated/prisma/client.js';
import { B, K1 } from '../bm25.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** A query ready to score: its terms and weights, the scope and its average length, the filter, k. */
export interface ExhaustiveSearch {
  terms: string[];
  /** qtf × idf per term. */
  weights: number[];
  scopeNodeIds: string[];
  averageLength: number;
  filter: string | null;
  limit: number;
}

/** BM25's saturated, length-normalised term frequency (bm25.ts termFrequencyWeight), in SQL. */
export const tfWeight = (tf: Prisma.Sql, dl: Prisma.Sql, averageLength: number) =>
  Prisma.sql`(${tf} * ${K1 + 1}::float8 / (${tf} + ${K1}::float8 * (1 - ${B}::float8 + ${B}::float8 * ${dl} / ${averageLength}::float8)))`;

/** The search classes (node sets) under the scope's nodes: a chunk is in the scope when its class is. */
const scopeClasses = (scopeNodeIds: string[]) =>
  Prisma.sql`SELECT s.id FROM search_classes s WHERE s."ancestorIds" && ${scopeNodeIds}::uuid[]`;

/**
 * A posting's class is in the scope, checked in a hash of the scope's classes built once. The
 * `OR false` keeps PostgreSQL from turning the IN into a join (it does not pull up a sublink
 * under OR): as a join, it misjudged a common term's postings by 100x, read all 340k of them
 * and sorted them, where the impact order read with this filter stops at the LIMIT (240 → 11 ms).
 */
export const postingInScope = (classId: Prisma.Sql, scopeNodeIds: string[]) =>
  Prisma.sql`(${classId} IN (${scopeClasses(scopeNodeIds)}) OR false)`;

export interface RankedRow {
  chunkId: string;
  score: number;
  /** Matches in all (the window count before the limit). */
  total: number;
}

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

/**
 * The scope's chunks that match any of the terms, scored from their tsvectors; `total` counts
 * them. The planner reads the scope's classes or the GIN index, whichever is more selective.
 */
export function rankScopeChunks(client: Queryable, search: ExhaustiveSearch): Promise<RankedRow[]> {
  return rankChunksWhere(
    client,
    search,
    Prisma.sql`c."searchClassId" IN (${scopeClasses(search.scopeNodeIds)})
      AND c.tsv @@ search_any_term(${search.terms}::text[])`,
  );
}

/**
 * The chunks that match `candidates` (a tsquery), found through the GIN index and checked for
 * the scope one by one (a scalar subquery: the planner cannot turn it into a scan of the
 * scope's chunks), scored from their tsvectors.
 */
export function rankCandidateChunks(
  client: Queryable,
  search: ExhaustiveSearch,
  candidates: string,
): Promise<RankedRow[]> {
  return rankChunksWhere(
    client,
    search,
    Prisma.sql`c.tsv @@ ${candidates}::tsquery
      AND (SELECT s."ancestorIds" && ${search.scopeNodeIds}::uuid[] FROM search_classes s WHERE s.id = c."searchClassId")`,
  );
}

/**
 * The scope's chunks that hold every adjacent word pair of the required phrases
 * (search_phrase_pairs, the scope checked in the index), then checked against the filter
 * itself, scored from their tsvectors. Every chunk that passes the filter holds the pairs.
 */
export function rankPhraseChunks(
  client: Queryable,
  search: ExhaustiveSearch,
  pairs: string[],
): Promise<RankedRow[]> {
  return rankChunksWhere(
    client,
    search,
    Prisma.sql`c.id IN (
      SELECT pp."chunkId" FROM search_phrase_pairs pp
      WHERE pp.pair = ANY (${pairs}::text[]) AND ${postingInScope(Prisma.sql`pp."classId"`, search.scopeNodeIds)}
      GROUP BY pp."chunkId" HAVING count(*) = ${pairs.length})`,
  );
}

/**
 * The filter is one phrase of two adjacent words: its chunks are exactly its pair's rows in
 * the scope, which carry both words' tf and the chunk's length (scored from the pair index
 * alone); only the query's other words are read from the postings.
 */
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
    WITH q AS (SELECT * FROM unnest(${others.map((t) => t.term)}::text[], ${others.map((t) => t.weight)}::float8[]) AS q(term, weight)),
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

function rankChunksWhere(
  client: Queryable,
  search: ExhaustiveSearch,
  where: Prisma.Sql,
): Promise<RankedRow[]> {
  return client.$queryRaw<RankedRow[]>`
    WITH q AS (SELECT * FROM unnest(${search.terms}::text[], ${search.weights}::float8[]) AS q(term, weight)),
    scoped AS (
      SELECT c.id, c.tsv, c."searchLength" AS dl
      FROM chunks c
      WHERE ${where}
        AND (${search.filter}::tsquery IS NULL OR c.tsv @@ ${search.filter}::tsquery)
    ),
    matches AS (${scoreScoped(search)})
    SELECT "chunkId"::text, score, (count(*) OVER ())::int AS total
    FROM matches ORDER BY score DESC, "chunkId" LIMIT ${search.limit}`;
}

/**
 * BM25 of each row of a `scoped` CTE (id, tsv, dl) from its tsvector, with the terms' weights
 * in a `q` CTE (term, weight): rows ("chunkId", score).
 */
export function scoreScoped(search: ExhaustiveSearch): Prisma.Sql {
  return Prisma.sql`
      SELECT s.id AS "chunkId",
             sum(q.weight * ${tfWeight(Prisma.sql`cardinality(l.positions)`, Prisma.sql`s.dl`, search.averageLength)}) AS score
      -- Only the query's lexemes are unnested: setweight marks them (chunks' lexemes carry the
      -- default weight D), ts_filter keeps them. Unnesting every lexeme cost 5x as much (20,000
      -- chunks: 258 → 50 ms over reading them).
      FROM scoped s, unnest(ts_filter(setweight(s.tsv, 'A', ${search.terms}::text[]), '{a}')) l JOIN q ON q.term = l.lexeme
      GROUP BY s.id`;
}

// The pieces the ranking statements share: the query to score, BM25's term weight, the scope
// checks and the scoring of chunks from their tsvectors. Fragments only: every statement that
// uses them has its own file.
import { Prisma } from '../../../generated/prisma/client.js';
import { B, K1 } from '../bm25.js';

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

/** A scored match, best first, with the number of matches. */
export interface RankedRow {
  chunkId: string;
  score: number;
  /** Matches in all (the window count before the limit). */
  total: number;
}

/** BM25's saturated, length-normalised term frequency (bm25.ts termFrequencyWeight), in SQL. */
export const tfWeight = (tf: Prisma.Sql, dl: Prisma.Sql, averageLength: number) =>
  Prisma.sql`(${tf} * ${K1 + 1}::float8
    / (${tf} + ${K1}::float8 * (1 - ${B}::float8 + ${B}::float8 * ${dl} / ${averageLength}::float8)))`;

/** The search classes (node sets) under the scope's nodes: a chunk is in the scope when its class is. */
export const scopeClasses = (scopeNodeIds: string[]) =>
  Prisma.sql`SELECT s.id FROM search_classes s WHERE s."ancestorIds" && ${scopeNodeIds}::uuid[]`;

/**
 * A posting's class is in the scope, checked in a hash of the scope's classes built once. The
 * `OR false` keeps PostgreSQL from turning the IN into a join (it does not pull up a sublink
 * under OR): as a join, it misjudged a common term's postings, read all of them and sorted
 * them, where the impact order read with this filter stops at the LIMIT.
 */
export const postingInScope = (classId: Prisma.Sql, scopeNodeIds: string[]) =>
  Prisma.sql`(${classId} IN (${scopeClasses(scopeNodeIds)}) OR false)`;

/**
 * The statement that ranks the chunks matching `where` (on `chunks c`) and the filter, scored
 * from their tsvectors, best first, with their number: rows of RankedRow.
 */
export function rankChunksWhere(search: ExhaustiveSearch, where: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
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
  const frequency = tfWeight(
    Prisma.sql`cardinality(l.positions)`,
    Prisma.sql`s.dl`,
    search.averageLength,
  );
  return Prisma.sql`
      SELECT s.id AS "chunkId",
             sum(q.weight * ${frequency}) AS score
      -- Only the query's lexemes are unnested: setweight marks them (chunks' lexemes carry the
      -- default weight D), ts_filter keeps them. Unnesting every lexeme cost several times as
      -- much as reading the chunks.
      FROM scoped s, unnest(ts_filter(setweight(s.tsv, 'A', ${search.terms}::text[]), '{a}')) l
      JOIN q ON q.term = l.lexeme
      GROUP BY s.id`;
}

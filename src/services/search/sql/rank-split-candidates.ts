// The candidates of the common-word split (common-words.ts): chunks holding one of the other
// words' sets (GIN index, scope checked per chunk) and chunks with a posting above its word's
// cutoff (index ranges in impact order, scope checked per posting), scored from their
// tsvectors. Too many candidates: it says so after finding a bounded number, and the caller
// ranks another way.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { WEIGHT_MARGIN, type TermFloor } from '../floors.js';
import {
  postingInScope,
  scoreScoped,
  tfWeight,
  type ExhaustiveSearch,
} from './ranking-fragments.js';

/** The top k, or undefined past `maxCandidates`. `sets` is tsquery text, or null for none. */
export async function rankSplitCandidates(
  client: Queryable,
  search: ExhaustiveSearch,
  sets: string | null,
  cutoffs: Array<TermFloor | null>,
  maxCandidates: number,
): Promise<Array<{ chunkId: string; score: number }> | undefined> {
  const weigh = tfWeight(Prisma.sql`p.tf`, Prisma.sql`p.dl`, search.averageLength);
  const cut = search.terms.flatMap((term, i) => {
    const floor = cutoffs[i];
    return floor && Number.isFinite(floor.impact)
      ? [{ term, weight: search.weights[i]!, floor }]
      : [];
  });
  const fromSets = sets
    ? Prisma.sql`SELECT c.id FROM chunks c
        WHERE c.tsv @@ ${sets}::tsquery
          AND (SELECT s."ancestorIds" && ${search.scopeNodeIds}::uuid[]
               FROM search_classes s WHERE s.id = c."searchClassId")`
    : Prisma.sql`SELECT NULL::uuid AS id WHERE false`;
  const [row] = await client.$queryRaw<
    Array<{ overflow: boolean; ranked: Array<{ chunkId: string; score: number }> | null }>
  >`
    WITH q AS (SELECT * FROM unnest(${search.terms}::text[], ${search.weights}::float8[]) AS q(term, weight)),
    cut AS (
      SELECT * FROM unnest(${cut.map((t) => t.term)}::text[], ${cut.map((t) => t.weight)}::float8[],
                           ${cut.map((t) => t.floor.weight * (1 - WEIGHT_MARGIN))}::float8[],
                           ${cut.map((t) => t.floor.impact)}::float8[])
        AS cut(term, weight, cut_weight, cut_impact)
    ),
    candidates AS MATERIALIZED (
      (${fromSets})
      UNION
      (SELECT p."chunkId" FROM cut JOIN search_postings p ON p.term = cut.term AND p.impact >= cut.cut_impact
       WHERE cut.weight * ${weigh} >= cut.cut_weight
         AND ${postingInScope(Prisma.sql`p."classId"`, search.scopeNodeIds)})
      LIMIT ${maxCandidates + 1}
    ),
    overflow AS (SELECT count(*) > ${maxCandidates} AS yes FROM candidates),
    scoped AS (
      SELECT c.id, c.tsv, c."searchLength" AS dl
      FROM candidates x JOIN chunks c ON c.id = x.id
      WHERE NOT (SELECT yes FROM overflow)
        AND (${search.filter}::tsquery IS NULL OR c.tsv @@ ${search.filter}::tsquery)
    ),
    matches AS (${scoreScoped(search)}),
    top AS (SELECT * FROM matches ORDER BY score DESC, "chunkId" LIMIT ${search.limit})
    SELECT (SELECT yes FROM overflow) AS overflow,
           (SELECT json_agg(json_build_object('chunkId', t."chunkId", 'score', t.score)
                            ORDER BY t.score DESC, t."chunkId")
            FROM top t) AS ranked`;
  return row!.overflow ? undefined : (row!.ranked ?? []);
}

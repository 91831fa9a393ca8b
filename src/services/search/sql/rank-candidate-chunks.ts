// The chunks that match a tsquery of candidates (the pruned word sets, or a filter the GIN
// index answers), scored from their tsvectors, best first, with their number.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { rankChunksWhere, type ExhaustiveSearch, type RankedRow } from './ranking-fragments.js';

/**
 * The chunks that match `candidates`, found through the GIN index and checked for the scope one
 * by one (a scalar subquery: the planner cannot turn it into a scan of the scope's chunks).
 */
export function rankCandidateChunks(
  client: Queryable,
  search: ExhaustiveSearch,
  candidates: string,
): Promise<RankedRow[]> {
  return client.$queryRaw<RankedRow[]>(
    rankChunksWhere(
      search,
      Prisma.sql`c.tsv @@ ${candidates}::tsquery
      AND (SELECT s."ancestorIds" && ${search.scopeNodeIds}::uuid[]
           FROM search_classes s WHERE s.id = c."searchClassId")`,
    ),
  );
}

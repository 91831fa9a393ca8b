// Every match scored from the scope's chunks (weighed from their tsvectors), best first, with
// the number of matches: the way in for a small scope.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import {
  rankChunksWhere,
  scopeClasses,
  type ExhaustiveSearch,
  type RankedRow,
} from './ranking-fragments.js';

/**
 * The scope's chunks that match any of the terms; `total` counts them. The planner reads the
 * scope's classes or the GIN index, whichever is more selective.
 */
export function rankScopeChunks(client: Queryable, search: ExhaustiveSearch): Promise<RankedRow[]> {
  return client.$queryRaw<RankedRow[]>(
    rankChunksWhere(
      search,
      Prisma.sql`c."searchClassId" IN (${scopeClasses(search.scopeNodeIds)})
      AND c.tsv @@ search_any_term(${search.terms}::text[])`,
    ),
  );
}

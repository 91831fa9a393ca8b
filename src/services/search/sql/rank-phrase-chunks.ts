// The matches of required phrases: the scope's chunks that hold every adjacent word pair of
// the phrases (search_phrase_pairs, the scope checked in the index), then checked against the
// filter itself, scored from their tsvectors. Every chunk that passes the filter holds the pairs.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import {
  postingInScope,
  rankChunksWhere,
  type ExhaustiveSearch,
  type RankedRow,
} from './ranking-fragments.js';

export function rankPhraseChunks(
  client: Queryable,
  search: ExhaustiveSearch,
  pairs: string[],
): Promise<RankedRow[]> {
  return client.$queryRaw<RankedRow[]>(
    rankChunksWhere(
      search,
      Prisma.sql`c.id IN (
      SELECT pp."chunkId" FROM search_phrase_pairs pp
      WHERE pp.pair = ANY (${pairs}::text[]) AND ${postingInScope(Prisma.sql`pp."classId"`, search.scopeNodeIds)}
      GROUP BY pp."chunkId" HAVING count(*) = ${pairs.length})`,
    ),
  );
}

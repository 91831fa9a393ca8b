// Random access for the threshold algorithm: which of some chunks pass the query's filter.
import type { Queryable } from '../../../platform/db.js';

export async function chunksPassingFilter(
  client: Queryable,
  chunkIds: string[],
  filter: string,
): Promise<Set<string>> {
  if (chunkIds.length === 0) return new Set();
  const rows = await client.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM chunks WHERE id = ANY (${chunkIds}::uuid[]) AND tsv @@ ${filter}::tsquery`;
  return new Set(rows.map((row) => row.id));
}

// The chunks and document titles of ranked hits.
import type { Queryable } from '../../../platform/db.js';

export interface HitRow {
  chunkId: string;
  documentId: string;
  title: string;
  content: string;
}

export async function selectHits(
  client: Queryable,
  chunkIds: string[],
): Promise<Map<string, HitRow>> {
  if (chunkIds.length === 0) return new Map();
  const rows = await client.$queryRaw<HitRow[]>`
    SELECT c.id::text AS "chunkId", c."documentId"::text AS "documentId", d.title, c.content
    FROM chunks c JOIN documents d ON d.id = c."documentId"
    WHERE c.id = ANY (${chunkIds}::uuid[])`;
  return new Map(rows.map((row) => [row.chunkId, row]));
}

// Full-text search over the chunks in an agent's scope, ranked by ts_rank_cd, one page
// at a time: keyset on (score desc, chunk id) so the stream can fetch small batches.
import type { PrismaClient } from '../../../generated/prisma/client.js';

export interface ChunkHitRow {
  chunkId: string;
  documentId: string;
  title: string;
  content: string;
  score: number;
}

export interface SearchPage {
  agentId: string;
  query: string;
  limit: number;
  /** The last hit of the previous page. */
  after?: { score: number; chunkId: string };
  /**
   * scope-first (small scopes): the scope's chunks, then the text match.
   * index-first (large scopes): the GIN text match drives, the scope is checked per hit
   * (measured at the root of 1M chunks: 3.6 s → 13–800 ms; a leaf would go 3 ms → 1.5 s).
   * Default: scope-first.
   */
  strategy?: 'scope-first' | 'index-first';
}

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** Lexemes a query keeps after parsing (0 for an empty or all-stopword query). */
export async function countQueryTerms(client: Queryable, query: string): Promise<number> {
  const [row] = await client.$queryRaw<Array<{ terms: number }>>`
    SELECT numnode(websearch_to_tsquery('english', ${query}))::int AS terms`;
  return row?.terms ?? 0;
}

export function searchAgentChunks(client: Queryable, page: SearchPage): Promise<ChunkHitRow[]> {
  return page.strategy === 'index-first' ? searchIndexFirst(client, page) : searchScopeFirst(client, page);
}

function searchIndexFirst(client: Queryable, page: SearchPage): Promise<ChunkHitRow[]> {
  const afterScore = page.after?.score ?? null;
  const afterId = page.after?.chunkId ?? null;
  return client.$queryRaw<ChunkHitRow[]>`
    WITH q AS (SELECT websearch_to_tsquery('english', ${page.query}) AS query),
    scope AS (SELECT array_agg(an."nodeId") AS ids FROM agent_nodes an WHERE an."agentId" = ${page.agentId}::uuid),
    top AS (
      SELECT c.id AS "chunkId", c."documentId", c.content, ts_rank_cd(c.tsv, q.query)::float8 AS score
      FROM chunks c, q, scope
      WHERE c.tsv @@ q.query
        AND EXISTS (
          SELECT 1 FROM document_nodes dn JOIN taxonomy_nodes n ON n.id = dn."nodeId"
          WHERE dn."documentId" = c."documentId" AND n."ancestorIds" && scope.ids
        )
        AND (${afterScore}::float8 IS NULL
             OR ts_rank_cd(c.tsv, q.query)::float8 < ${afterScore}::float8
             OR (ts_rank_cd(c.tsv, q.query)::float8 = ${afterScore}::float8 AND c.id > ${afterId}::uuid))
      ORDER BY score DESC, c.id
      LIMIT ${page.limit}
    )
    SELECT t."chunkId", t."documentId", d.title, t.content, t.score
    FROM top t JOIN documents d ON d.id = t."documentId"
    ORDER BY t.score DESC, t."chunkId"`;
}

function searchScopeFirst(client: Queryable, page: SearchPage): Promise<ChunkHitRow[]> {
  const afterScore = page.after?.score ?? null;
  const afterId = page.after?.chunkId ?? null;
  return client.$queryRaw<ChunkHitRow[]>`
    WITH q AS (SELECT websearch_to_tsquery('english', ${page.query}) AS query),
    scope_documents AS (
      SELECT DISTINCT dn."documentId" AS id
      FROM agent_nodes an
      JOIN taxonomy_nodes n ON n."ancestorIds" @> ARRAY[an."nodeId"]
      JOIN document_nodes dn ON dn."nodeId" = n.id
      WHERE an."agentId" = ${page.agentId}::uuid
    ),
    ranked AS (
      SELECT c.id AS "chunkId", c."documentId", c.content, ts_rank_cd(c.tsv, q.query)::float8 AS score
      FROM chunks c, q
      WHERE c.tsv @@ q.query AND c."documentId" IN (SELECT id FROM scope_documents)
    )
    SELECT r."chunkId", r."documentId", d.title, r.content, r.score
    FROM ranked r JOIN documents d ON d.id = r."documentId"
    WHERE ${afterScore}::float8 IS NULL
       OR r.score < ${afterScore}::float8
       OR (r.score = ${afterScore}::float8 AND r."chunkId" > ${afterId}::uuid)
    ORDER BY r.score DESC, r."chunkId"
    LIMIT ${page.limit}`;
}

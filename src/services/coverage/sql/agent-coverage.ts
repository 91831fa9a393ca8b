// Coverage of an agent in one set-based statement: for each selected node, the distinct
// documents (and their chunks) in its subtree, plus the distinct totals over the whole
// scope. Subtrees come from the materialised path (GIN on taxonomy_nodes.ancestorIds);
// chunk counts from documents.chunkCount, so the chunks table is never scanned.
import type { Queryable } from '../../../platform/db.js';

export interface NodeCoverageRow {
  id: string;
  taxonomyId: string;
  key: string;
  label: string;
  parentId: string | null;
  path: string[];
  ancestorIds: string[];
  depth: number;
  position: number;
  documents: number;
  chunks: number;
  totalDocuments: number;
  totalChunks: number;
}

export function selectAgentCoverage(
  client: Queryable,
  agentId: string,
): Promise<NodeCoverageRow[]> {
  // MATERIALIZED: computed once. Inlined, PostgreSQL re-ran `totals` for every output row,
  // which made a root-scoped agent many times slower (bench/README.md).
  return client.$queryRaw<NodeCoverageRow[]>`
    WITH scope AS (
      SELECT an."nodeId" AS id, an.position AS scope_position
      FROM agent_nodes an
      WHERE an."agentId" = ${agentId}::uuid
    ),
    scope_documents AS MATERIALIZED (
      SELECT sd.scope_id, sd.document_id, d."chunkCount" AS chunks
      FROM (
        SELECT DISTINCT s.id AS scope_id, dn."documentId" AS document_id
        FROM scope s
        JOIN taxonomy_nodes n ON n."ancestorIds" @> ARRAY[s.id]
        JOIN document_nodes dn ON dn."nodeId" = n.id
      ) sd
      JOIN documents d ON d.id = sd.document_id
    ),
    per_node AS (
      SELECT scope_id, count(*)::int AS documents, coalesce(sum(chunks), 0)::int AS chunks
      FROM scope_documents
      GROUP BY scope_id
    ),
    totals AS MATERIALIZED (
      SELECT count(*)::int AS documents, coalesce(sum(chunks), 0)::int AS chunks
      FROM (SELECT document_id, min(chunks) AS chunks FROM scope_documents GROUP BY document_id) distinct_documents
    )
    SELECT n.id, n."taxonomyId", n.key, n.label, n."parentId", n.path, n."ancestorIds", n.depth, n.position,
           coalesce(p.documents, 0) AS documents, coalesce(p.chunks, 0) AS chunks,
           t.documents AS "totalDocuments", t.chunks AS "totalChunks"
    FROM scope s
    JOIN taxonomy_nodes n ON n.id = s.id
    LEFT JOIN per_node p ON p.scope_id = s.id
    CROSS JOIN totals t
    ORDER BY s.scope_position`;
}

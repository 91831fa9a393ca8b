// Coverage of an agent in one set-based statement: for each selected node, the distinct
// documents (and their chunks) in its subtree, plus the distinct totals over the whole
// scope. Subtrees come from the materialised path (GIN on taxonomy_nodes.ancestorIds);
// chunk counts from documents.chunkCount, so the chunks table is never scanned.
import type { PrismaClient } from '../../generated/prisma/client.js';

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

type Queryable = Pick<PrismaClient, '$queryRaw'>;

export function selectAgentCoverage(client: Queryable, agentId: string): Promise<NodeCoverageRow[]> {
  return client.$queryRaw<NodeCoverageRow[]>`
    WITH scope AS (
      SELECT an."nodeId" AS id, an.position AS scope_position
      FROM agent_nodes an
      WHERE an."agentId" = ${agentId}::uuid
    ),
    scope_documents AS (
      SELECT DISTINCT s.id AS scope_id, dn."documentId" AS document_id
      FROM scope s
      JOIN taxonomy_nodes n ON n."ancestorIds" @> ARRAY[s.id]
      JOIN document_nodes dn ON dn."nodeId" = n.id
    ),
    per_node AS (
      SELECT sd.scope_id, count(*)::int AS documents, coalesce(sum(d."chunkCount"), 0)::int AS chunks
      FROM scope_documents sd
      JOIN documents d ON d.id = sd.document_id
      GROUP BY sd.scope_id
    ),
    totals AS (
      SELECT count(*)::int AS documents, coalesce(sum(d."chunkCount"), 0)::int AS chunks
      FROM (SELECT DISTINCT document_id FROM scope_documents) x
      JOIN documents d ON d.id = x.document_id
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

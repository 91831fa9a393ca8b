// Coverage of an agent in one set-based statement: for each selected node, the distinct
// documents (and their chunks) in its subtree, plus the distinct totals over the whole
// scope. Subtrees come from the materialised path (GIN on taxonomy_nodes.ancestorIds);
// chunk counts from documents.chunkCount, so the chunks table is never scanned.
// A scope node of another team's taxonomy (a clone's) counts its documents only while every
// member of the agent's team may read that taxonomy: the figures are recorded in the agent's
// row and history, which all of them read (docs/teams.md). Each row names that other team when
// its node counted (`countedTeamId`): the history entry lists its reader only in such teams.
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
  /** Another team's taxonomy whose documents this node counted; null: the agent's own team's, or none counted. */
  countedTeamId: string | null;
}

export function selectAgentCoverage(
  client: Queryable,
  agentId: string,
): Promise<NodeCoverageRow[]> {
  // MATERIALIZED: computed once. Inlined, PostgreSQL re-ran `totals` for every output row,
  // which made a root-scoped agent many times slower (bench/README.md).
  return client.$queryRaw<NodeCoverageRow[]>`
    WITH scope AS MATERIALIZED (
      SELECT an."nodeId" AS id, an.position AS scope_position,
             -- Per scope node, by its keys (a join here took the subtrees' plan with it).
             (SELECT t."teamId" = a."teamId"
                     OR NOT EXISTS (
                          SELECT 1 FROM team_members m
                          WHERE m."teamId" = a."teamId"
                            AND NOT EXISTS (SELECT 1 FROM team_members r
                                            WHERE r."teamId" = t."teamId" AND r."userId" = m."userId"))
              FROM taxonomy_nodes sn, taxonomies t, agents a
              WHERE sn.id = an."nodeId" AND t.id = sn."taxonomyId" AND a.id = an."agentId") AS counted,
             (SELECT nullif(t."teamId", a."teamId")
              FROM taxonomy_nodes sn, taxonomies t, agents a
              WHERE sn.id = an."nodeId" AND t.id = sn."taxonomyId" AND a.id = an."agentId") AS other_team_id
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
        WHERE s.counted
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
           t.documents AS "totalDocuments", t.chunks AS "totalChunks",
           CASE WHEN s.counted THEN s.other_team_id END AS "countedTeamId"
    FROM scope s
    JOIN taxonomy_nodes n ON n.id = s.id
    LEFT JOIN per_node p ON p.scope_id = s.id
    CROSS JOIN totals t
    ORDER BY s.scope_position`;
}

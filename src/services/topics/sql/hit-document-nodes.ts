// The nodes that the documents of a topic plan's top search hits are classified under, inside
// the agent's scope, deepest first.
import type { Queryable } from '../../../platform/db.js';
import type { NodeRow } from './topic-focus-nodes.js';

export function selectHitDocumentNodes(
  client: Queryable,
  agentId: string,
  documentIds: string[],
): Promise<Array<NodeRow & { documentId: string }>> {
  return client.$queryRaw<Array<NodeRow & { documentId: string }>>`
    SELECT dn."documentId", n.id, n.label, n.path
    FROM document_nodes dn JOIN taxonomy_nodes n ON n.id = dn."nodeId"
    WHERE dn."documentId" = ANY(${documentIds}::uuid[])
      AND n."ancestorIds" && ARRAY(SELECT "nodeId" FROM agent_nodes WHERE "agentId" = ${agentId}::uuid)
    ORDER BY n.depth DESC, n.position, n.id`;
}

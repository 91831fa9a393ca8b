// The taxonomy nodes behind a topic plan: the agent's scope (in its order) and, for the
// documents of the top search hits, the nodes they are classified under inside that scope.
import type { PrismaClient } from '../../../generated/prisma/client.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

export interface NodeRow {
  id: string;
  label: string;
  path: string[];
}

export function selectAgentScopeNodes(client: Queryable, agentId: string): Promise<NodeRow[]> {
  return client.$queryRaw<NodeRow[]>`
    SELECT n.id, n.label, n.path
    FROM agent_nodes an JOIN taxonomy_nodes n ON n.id = an."nodeId"
    WHERE an."agentId" = ${agentId}::uuid
    ORDER BY an.position`;
}

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

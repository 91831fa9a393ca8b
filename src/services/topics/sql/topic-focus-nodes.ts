// The taxonomy nodes behind a topic plan: the agent's scope, in its order (the hits' nodes:
// hit-document-nodes.ts).
import type { Queryable } from '../../../platform/db.js';

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

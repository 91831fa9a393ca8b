// The agents the search benchmarks ask: the root agent (every chunk), a subtree agent (one
// root: a tenth of the chunks; made here once) and the leaf agent (about 100 chunks).
import { db } from '../src/platform/db.js';
import type { Corpus } from './corpus.js';

export interface SearchAgent {
  label: string;
  id: string;
}

const SUBTREE_AGENT_NAME = 'Bench subtree agent (one root)';

async function subtreeAgentId(corpus: Corpus): Promise<string> {
  const [found] = await db().$queryRaw<
    Array<{ id: string }>
  >`SELECT id::text FROM agents WHERE name = ${SUBTREE_AGENT_NAME}`;
  if (found) return found.id;
  const [created] = await db().$queryRaw<Array<{ id: string }>>`
    WITH agent AS (
      INSERT INTO agents ("teamId", name, "scopeDescription", "taxonomyId", "taxonomyVersion")
      SELECT t."teamId", ${SUBTREE_AGENT_NAME}, 'one root', t.id, t.version FROM taxonomies t WHERE t.id = ${corpus.taxonomyId}::uuid
      RETURNING id
    ), scoped AS (
      INSERT INTO agent_nodes ("agentId", "nodeId", position)
      SELECT agent.id, n.id, 0 FROM agent, taxonomy_nodes n WHERE n."taxonomyId" = ${corpus.taxonomyId}::uuid AND n.key = 'n0'
    )
    SELECT id::text FROM agent`;
  return created!.id;
}

export async function searchAgents(corpus: Corpus): Promise<SearchAgent[]> {
  return [
    { label: 'root agent (1M chunks)', id: corpus.rootAgentId },
    { label: 'subtree agent (100k chunks)', id: await subtreeAgentId(corpus) },
    { label: 'leaf agent (~100 chunks)', id: corpus.leafAgentId },
  ];
}

// A minimal taxonomy and agent for the task benchmarks, created through the services.
import { db } from '../../src/platform/db.js';
import { createAgent } from '../../src/services/agents/agents.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { createTaxonomy } from '../../src/services/taxonomy/taxonomy.js';
import { operatorCaller } from '../../src/services/auth/caller.js';
import { defaultTeamId } from '../../src/services/auth/default-team.js';

export async function benchAgent(): Promise<{ agentId: string; ownerId: string }> {
  const owner = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  // The operator's, as the API's ADMIN_API_KEY makes them: in the `default` team.
  const operator = operatorCaller(owner, await defaultTeamId());
  const taxonomy = await createTaxonomy(
    { version: 'bench-1', name: 'Bench', nodes: [{ key: 'root', label: 'Root' }] },
    operator,
  );
  const node = await db().taxonomyNode.findFirstOrThrow({ where: { taxonomyId: taxonomy.id } });
  const agent = await createAgent(
    {
      name: 'Bench agent',
      taxonomyVersion: 'bench-1',
      taxonomyNodeIds: [node.id],
    },
    operator,
  );
  return { agentId: toGlobalId('Agent', agent.id), ownerId: owner.id };
}

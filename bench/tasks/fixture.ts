// A minimal taxonomy and agent for the task benchmarks, created through the services.
import { db } from '../../src/platform/db.js';
import { createAgent } from '../../src/resolvers/agents/agents.js';
import { toGlobalId } from '../../src/platform/ids.js';
import { createTaxonomy } from '../../src/resolvers/taxonomy/taxonomy.js';

export async function benchAgent(): Promise<{ agentId: string; ownerId: string }> {
  const owner = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  const taxonomy = await createTaxonomy({
    version: 'bench-1',
    name: 'Bench',
    nodes: [{ key: 'root', label: 'Root' }],
  });
  const node = await db().taxonomyNode.findFirstOrThrow({ where: { taxonomyId: taxonomy.id } });
  const agent = await createAgent(
    {
      name: 'Bench agent',
      taxonomyVersion: 'bench-1',
      taxonomyNodeIds: [toGlobalId('TaxonomyNode', node.id)],
    },
    owner.id,
  );
  return { agentId: toGlobalId('Agent', agent.id), ownerId: owner.id };
}

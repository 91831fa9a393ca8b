// Demo data for the embedded default, loaded once into an empty database: the taxonomy
// "Enterprise Knowledge" 1.0.0, about a thousand documents and a handful of agents with
// coverage history. Everything goes through the domain services (createTaxonomy,
// ingestDocuments, createAgent, computeAndRecordCoverage), so it is as valid as data
// created through the API. Deterministic: every fresh database gets the same corpus.
import { db } from '../platform/db.js';
import { logger } from '../platform/logger.js';
import { ingestDocuments } from '../resolvers/taxonomy/documents.js';
import { toGlobalId } from '../platform/ids.js';
import { createTaxonomy } from '../resolvers/taxonomy/taxonomy.js';
import { createDemoAgents } from './agents.js';
import { createDemoTemplates } from './templates.js';
import { buildDemoDocuments } from './documents.js';
import { buildDemoTaxonomy, DEMO_TAXONOMY_NAME } from './taxonomy.js';

export const DEMO_TAXONOMY_VERSION = '1.0.0';
export const DEMO_USER_NAME = 'demo';

/** createTaxonomy's CONFLICT, or the unique violation (P2002) when another process inserted it in between. */
const isConflict = (error: unknown) => {
  const e = error as { code?: string; extensions?: { code?: string } } | undefined;
  return e?.extensions?.code === 'CONFLICT' || e?.code === 'P2002';
};

/** The demo taxonomy and its node ids by key; undefined when a concurrent start created it first. */
async function createDemoTaxonomy(plan: ReturnType<typeof buildDemoTaxonomy>) {
  let taxonomyId: string;
  try {
    const taxonomy = await createTaxonomy({
      version: DEMO_TAXONOMY_VERSION,
      name: DEMO_TAXONOMY_NAME,
      nodes: plan.map(({ key, label, parentKey }) => ({ key, label, parentKey })),
    });
    taxonomyId = taxonomy.id;
  } catch (error) {
    if (!isConflict(error)) throw error;
    return undefined;
  }
  return db().taxonomyNode.findMany({
    where: { taxonomyId },
    select: { id: true, key: true, parentId: true },
  });
}

/** Times each phase of the load, for the log line. */
function lapTimer() {
  const phasesMs: Record<string, number> = {};
  let lapStart = performance.now();
  return {
    phasesMs,
    lap(phase: string) {
      const now = performance.now();
      phasesMs[phase] = Math.round(now - lapStart);
      lapStart = now;
    },
  };
}

export async function loadDemoData(): Promise<void> {
  const started = performance.now();
  const log = logger.child({ module: 'demo' });
  const { phasesMs, lap } = lapTimer();
  if (
    await db().taxonomy.findUnique({
      where: { version: DEMO_TAXONOMY_VERSION },
      select: { id: true },
    })
  ) {
    log.debug({ taxonomyVersion: DEMO_TAXONOMY_VERSION }, 'demo data already present');
    return;
  }
  lap('check');

  // 1. The taxonomy. A concurrent start that got there first wins: then there is nothing to do.
  const plan = buildDemoTaxonomy();
  const nodes = await createDemoTaxonomy(plan);
  if (!nodes) {
    log.debug({ taxonomyVersion: DEMO_TAXONOMY_VERSION }, 'demo data loaded by another process');
    return;
  }
  const globalIdByKey = new Map(nodes.map((n) => [n.key, toGlobalId('TaxonomyNode', n.id)]));
  lap('taxonomy');

  // 2. The documents (chunked and indexed for full-text search by the service).
  const documents = buildDemoDocuments(plan).map((doc) => ({
    title: doc.title,
    content: doc.content,
    source: doc.source,
    taxonomyNodeIds: doc.nodeKeys.map((key) => globalIdByKey.get(key)!),
  }));
  const ingested = await ingestDocuments(DEMO_TAXONOMY_VERSION, documents);
  lap('documents');

  // 3. The agents, owned by the demo user, each with coverage computed and a month of history.
  const owner = await db().user.upsert({
    where: { name: DEMO_USER_NAME },
    create: { name: DEMO_USER_NAME },
    update: {},
  });
  const agents = await createDemoAgents(DEMO_TAXONOMY_VERSION, nodes, owner.id);
  lap('agents');

  // 4. Official templates for the report kinds, whose guides drive planTopic's sections.
  const templates = await createDemoTemplates({
    userId: owner.id,
    userName: owner.name,
    apiKeyId: null,
    scopes: new Set(['READ', 'WRITE', 'ADMIN']),
  });
  lap('templates');
  const levels = Math.max(...plan.map((n) => n.depth)) + 1;
  const counts = {
    nodes: nodes.length,
    levels,
    documents: ingested.documentCount,
    chunks: ingested.chunkCount,
    agents,
    templates,
  };
  log.info(
    {
      taxonomyVersion: DEMO_TAXONOMY_VERSION,
      ...counts,
      ms: Math.round(performance.now() - started),
      phasesMs,
    },
    'demo data loaded',
  );
}

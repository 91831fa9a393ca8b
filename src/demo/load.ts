// Demo data for the embedded default, loaded once into an empty database: the taxonomy
// "Enterprise Knowledge" 1.0.0, about a thousand documents and a handful of agents with
// coverage history, in the `default` team (every user's, unless AUTO_JOIN_DEFAULT_TEAM=false).
// Everything goes through the domain services (createTaxonomy, ingestDocuments, createAgent,
// computeAndRecordCoverage), so it is as valid as data created through the API.
// Deterministic: every fresh database gets the same corpus.
import { db } from '../platform/db.js';
import { ConflictError, mapPrismaError } from '../platform/errors.js';
import { logger } from '../platform/logger.js';
import { operatorCaller, type Caller } from '../services/auth/caller.js';
import { defaultTeamId } from '../services/auth/default-team.js';
import { ingestDocuments } from '../services/taxonomy/documents.js';
import { createTaxonomy } from '../services/taxonomy/taxonomy.js';
import { createDemoAgents } from './agents.js';
import { createDemoTemplates } from './templates.js';
import { buildDemoDocuments } from './documents.js';
import { buildDemoTaxonomy, DEMO_TAXONOMY_NAME } from './taxonomy.js';

export const DEMO_TAXONOMY_VERSION = '1.0.0';
export const DEMO_USER_NAME = 'demo';

/** createTaxonomy's conflict, or the unique violation when another process inserted it in between. */
const isConflict = (error: unknown) =>
  error instanceof ConflictError || mapPrismaError(error) instanceof ConflictError;

/** The demo taxonomy and its node ids by key; undefined when a concurrent start created it first. */
async function createDemoTaxonomy(plan: ReturnType<typeof buildDemoTaxonomy>, demo: Caller) {
  let taxonomyId: string;
  try {
    const taxonomy = await createTaxonomy(
      {
        version: DEMO_TAXONOMY_VERSION,
        name: DEMO_TAXONOMY_NAME,
        nodes: plan.map(({ key, label, parentKey }) => ({ key, label, parentKey })),
      },
      demo,
    );
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

/** The demo taxonomy is there already (an earlier start, or another process loading now). */
const demoTaxonomyExists = async (demo: Caller) =>
  Boolean(
    await db().taxonomy.findUnique({
      where: { teamId_version: { teamId: demo.teamId, version: DEMO_TAXONOMY_VERSION } },
      select: { id: true },
    }),
  );

/** The demo user, acting with the operator's rights in the `default` team. */
async function demoCaller(): Promise<Caller> {
  const user = await db().user.upsert({
    where: { name: DEMO_USER_NAME },
    create: { name: DEMO_USER_NAME },
    update: {},
    select: { id: true, name: true },
  });
  return operatorCaller(user, await defaultTeamId());
}

/** The documents, the demo user's agents and the official templates, over the new taxonomy. */
async function loadOverTaxonomy(
  plan: ReturnType<typeof buildDemoTaxonomy>,
  nodes: NonNullable<Awaited<ReturnType<typeof createDemoTaxonomy>>>,
  lap: (phase: string) => void,
  demo: Caller,
) {
  // 2. The documents (chunked and indexed for full-text search by the service).
  const nodeIdByKey = new Map(nodes.map((n) => [n.key, n.id]));
  const documents = buildDemoDocuments(plan).map((doc) => ({
    title: doc.title,
    content: doc.content,
    source: doc.source,
    taxonomyNodeIds: doc.nodeKeys.map((key) => nodeIdByKey.get(key)!),
  }));
  const ingested = await ingestDocuments(DEMO_TAXONOMY_VERSION, documents, demo);
  lap('documents');

  // 3. The agents, made by the demo user, each with coverage computed and a month of history.
  const agents = await createDemoAgents(DEMO_TAXONOMY_VERSION, nodes, demo);
  lap('agents');

  // 4. Official templates for the report kinds, whose guides drive planTopic's sections.
  const templates = await createDemoTemplates(demo);
  lap('templates');
  return { documents: ingested.documentCount, chunks: ingested.chunkCount, agents, templates };
}

export async function loadDemoData(): Promise<void> {
  const started = performance.now();
  const log = logger.child({ module: 'demo' });
  const { phasesMs, lap } = lapTimer();
  const demo = await demoCaller();
  if (await demoTaxonomyExists(demo)) {
    log.debug({ taxonomyVersion: DEMO_TAXONOMY_VERSION }, 'demo data already present');
    return;
  }
  lap('check');

  // 1. The taxonomy. A concurrent start that got there first wins: then there is nothing to do.
  const plan = buildDemoTaxonomy();
  const nodes = await createDemoTaxonomy(plan, demo);
  if (!nodes) {
    log.debug({ taxonomyVersion: DEMO_TAXONOMY_VERSION }, 'demo data loaded by another process');
    return;
  }
  lap('taxonomy');
  const loaded = await loadOverTaxonomy(plan, nodes, lap, demo);
  const levels = Math.max(...plan.map((n) => n.depth)) + 1;
  log.info(
    {
      taxonomyVersion: DEMO_TAXONOMY_VERSION,
      nodes: nodes.length,
      levels,
      ...loaded,
      ms: Math.round(performance.now() - started),
      phasesMs,
    },
    'demo data loaded',
  );
}

// Coverage: per selected node, documents found against a target; the
// overall coverage is the mean over the selected nodes; gaps are nodes under the
// threshold. Every computation appends a history entry and updates the agent, in one
// transaction (automatic history tracking).
import { cancellableOn, db } from '../../platform/db.js';
import { notFound } from '../../platform/errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { PubSub } from '../../platform/pubsub.js';
import { coverageSettings } from '../agents/agent-config.js';
import { publicId } from '../../platform/public-ids.js';
import { selectAgentCoverage, type NodeCoverageRow } from './sql/agent-coverage.js';
import { announceChanges } from '../../platform/changes.js';

export interface NodeCoverage {
  node: Omit<
    NodeCoverageRow,
    'documents' | 'chunks' | 'totalDocuments' | 'totalChunks' | 'countedTeamId'
  >;
  documentCount: number;
  chunkCount: number;
  targetDocuments: number;
  missingDocuments: number;
  coverage: number;
  recommendation: string | null;
}

export interface CoverageReport {
  overallCoverage: number;
  totalDocuments: number;
  totalChunks: number;
  nodes: NodeCoverage[];
  gaps: NodeCoverage[];
  computedAt: Date;
  /** Teams other than the agent's whose documents it counted (docs/teams.md). */
  countedTeamIds: string[];
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Above this many documents in scope, coverage runs with hash joins only. */
const LARGE_SCOPE_DOCUMENTS = 20_000;

export function buildCoverageReport(
  rows: readonly NodeCoverageRow[],
  featuresConfig: unknown,
  computedAt: Date,
): CoverageReport {
  const { target, gapThreshold } = coverageSettings(featuresConfig);
  const nodes = rows.map(
    ({ documents, chunks, totalDocuments: _d, totalChunks: _c, countedTeamId: _t, ...node }) => {
      const coverage = round2(Math.min(100, (100 * documents) / target));
      const missing = Math.max(0, target - documents);
      return {
        node,
        documentCount: documents,
        chunkCount: chunks,
        targetDocuments: target,
        missingDocuments: missing,
        coverage,
        recommendation:
          coverage < gapThreshold
            ? `Ingest ${missing} more document${missing === 1 ? '' : 's'} about ` +
              `"${node.path.join(' > ')}" to reach the target of ${target}.`
            : null,
      };
    },
  );
  const overall = nodes.length
    ? round2(nodes.reduce((sum, n) => sum + n.coverage, 0) / nodes.length)
    : 0;
  return {
    overallCoverage: overall,
    totalDocuments: rows[0]?.totalDocuments ?? 0,
    totalChunks: rows[0]?.totalChunks ?? 0,
    nodes,
    gaps: nodes.filter((n) => n.coverage < gapThreshold),
    computedAt,
    countedTeamIds: [
      ...new Set(rows.flatMap((row) => (row.countedTeamId ? [row.countedTeamId] : []))),
    ],
  };
}

export interface ComputeCoverageOptions {
  /** The task computing it: a task that runs twice still writes one history entry. */
  taskId?: string;
  pubsub?: PubSub;
  /**
   * Whoever asked went away (a request's client, a cancelled task): the computation stops,
   * its statement cancelled in PostgreSQL, and records nothing.
   */
  signal?: AbortSignal;
}

type Tx = Prisma.TransactionClient;

/** The history entry of a computation; a task's entry is written once however often it runs. */
async function recordHistory(
  tx: Tx,
  agent: { id: string; taxonomyVersion: string },
  report: CoverageReport,
  taskId: string | undefined,
) {
  // Keyed by the nodes' public ids: the entry is read back as JSON, as clients know the nodes.
  const nodeCoverage = Object.fromEntries(
    report.nodes.map((n) => [publicId('TaxonomyNode', n.node.id), n.coverage]),
  );
  const history = {
    agentId: agent.id,
    taskId: taskId ?? null,
    timestamp: report.computedAt,
    overallCoverage: report.overallCoverage,
    totalDocuments: report.totalDocuments,
    totalChunks: report.totalChunks,
    nodeCoverage: nodeCoverage as Prisma.InputJsonValue,
    taxonomyVersion: agent.taxonomyVersion,
    countedTeams: { create: report.countedTeamIds.map((teamId) => ({ teamId })) },
  };
  if (taskId) {
    await tx.coverageHistory.upsert({ where: { taskId }, create: history, update: {} });
  } else {
    await tx.coverageHistory.create({ data: history });
  }
}

/** Computes the agent's coverage, appends the history entry and updates the agent, in one transaction. */
async function computeInTransaction(
  tx: Tx,
  agentId: string,
  { taskId, signal }: ComputeCoverageOptions,
) {
  const agent = await tx.agent.findUnique({
    where: { id: agentId },
    select: { featuresConfig: true, taxonomyVersion: true, totalDocuments: true },
  });
  if (!agent) throw notFound('Agent');
  // A large scope (known from the last computation): hash joins. The planner's subtree
  // estimates are far too low there, and its nested loops probe documents once per
  // (node, document) pair. A small scope keeps the nested loops, where hash joins would
  // read far more than it holds (bench/README.md). And no JIT: the nested loops it must keep
  // (the subtrees' containment) are costed with PostgreSQL's penalty for a disabled plan, far
  // above any jit_above_cost, and compiling took 0.5 s of a 1 s statement.
  if (agent.totalDocuments > LARGE_SCOPE_DOCUMENTS)
    await tx.$queryRaw`SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)`;
  return cancellableOn(tx, signal, () => recordComputation(tx, agentId, agent, taskId));
}

/** The computation itself: the report, its history entry, the agent's figures. */
async function recordComputation(
  tx: Tx,
  agentId: string,
  agent: { featuresConfig: Prisma.JsonValue; taxonomyVersion: string },
  taskId: string | undefined,
) {
  const computedAt = new Date();
  const report = buildCoverageReport(
    await selectAgentCoverage(tx, agentId),
    agent.featuresConfig,
    computedAt,
  );
  await recordHistory(tx, { id: agentId, taxonomyVersion: agent.taxonomyVersion }, report, taskId);
  await tx.agent.update({
    where: { id: agentId },
    data: {
      coveragePercent: report.overallCoverage,
      totalDocuments: report.totalDocuments,
      totalChunks: report.totalChunks,
      lastCoverageUpdate: computedAt,
    },
  });
  return report;
}

export async function computeAndRecordCoverage(
  agentId: string,
  options: ComputeCoverageOptions = {},
): Promise<CoverageReport> {
  const report = await db().$transaction((tx) => computeInTransaction(tx, agentId, options), {
    timeout: 60_000,
  });
  // Its percentage, history and trend changed (before the task that asked is seen to finish).
  await announceChanges({ kind: 'coverage.recorded', agentId });
  await options.pubsub?.publish('agentUpdated', agentId, { agentId, deleted: false });
  return report;
}

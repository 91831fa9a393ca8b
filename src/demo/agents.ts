// The demo agents: scopes of different sizes (a whole domain, areas, topics, a sparse
// corner that shows gaps, the Korean area), each with a first coverage computation and a
// few older history entries with rising coverage so coverageHistory/coverageTrend show a curve.
import { db } from '../platform/db.js';
import type { Prisma } from '../generated/prisma/client.js';
import { createAgent } from '../services/agents/agents.js';
import type { Caller } from '../services/auth/caller.js';
import { computeAndRecordCoverage, type CoverageReport } from '../services/coverage/coverage.js';
import { publicId } from '../platform/public-ids.js';

interface DemoAgentSpec {
  name: string;
  scopeDescription: string;
  /** Node keys; `area/*` stands for every child of `area`. */
  scope: string[];
  retrievalConfig: { top_k: number; strategy: 'hybrid' | 'fulltext' };
  featuresConfig: Record<string, unknown> & { coverageTarget: number; gapThreshold: number };
}

export const DEMO_AGENTS: DemoAgentSpec[] = [
  {
    name: 'Healthcare Knowledge Assistant',
    scopeDescription:
      'Everything in the Healthcare domain: clinical operations, informatics, devices, population health and pharmacy.',
    scope: ['healthcare'],
    retrievalConfig: { top_k: 8, strategy: 'hybrid' },
    featuresConfig: { coverageTarget: 10, gapThreshold: 50, citations: true },
  },
  {
    name: 'ML Platform Copilot',
    scopeDescription:
      'Machine learning topics and vector databases, for engineers building retrieval and MLOps pipelines.',
    scope: ['technology/machine-learning/*', 'technology/data-platform/vector-databases'],
    retrievalConfig: { top_k: 8, strategy: 'hybrid' },
    featuresConfig: { coverageTarget: 10, gapThreshold: 60, citations: true, streaming: true },
  },
  {
    name: 'Compliance Advisor',
    scopeDescription:
      'Regulatory compliance, data privacy and financial risk and compliance: policies, controls and obligations.',
    scope: [
      'legal/regulatory-compliance/*',
      'legal/data-privacy/*',
      'finance/financial-risk-and-compliance',
    ],
    retrievalConfig: { top_k: 10, strategy: 'fulltext' },
    featuresConfig: { coverageTarget: 10, gapThreshold: 70, notifyOnGaps: true },
  },
  {
    name: 'Treasury & Cash Flow Analyst',
    scopeDescription:
      'Treasury topics (cash management, foreign exchange, banking, debt) and scenario modeling.',
    scope: ['finance/treasury/*', 'finance/financial-planning-and-analysis/scenario-modeling'],
    retrievalConfig: { top_k: 5, strategy: 'fulltext' },
    featuresConfig: { coverageTarget: 10, gapThreshold: 50 },
  },
  {
    name: 'Clinical Data Steward',
    scopeDescription:
      'Health informatics: electronic health records, interoperability and patient data privacy.',
    scope: [
      'healthcare/health-informatics/*',
      'healthcare/health-informatics/patient-data-privacy/*',
    ],
    retrievalConfig: { top_k: 6, strategy: 'hybrid' },
    featuresConfig: { coverageTarget: 8, gapThreshold: 60, notifyOnGaps: true },
  },
  {
    name: 'Security Operations Assistant',
    scopeDescription:
      'Security topics: identity and access, application security, incident response, vulnerabilities, encryption.',
    scope: ['technology/security/*'],
    retrievalConfig: { top_k: 7, strategy: 'hybrid' },
    featuresConfig: { coverageTarget: 10, gapThreshold: 60 },
  },
  {
    name: 'Facilities & Sustainability Planner',
    scopeDescription:
      'Facilities management and digital twins: a sparse corner of the corpus, to show ' +
      'coverage gaps and recommendations.',
    scope: ['operations/facilities-management/*', 'research/emerging-technology/digital-twins'],
    retrievalConfig: { top_k: 5, strategy: 'hybrid' },
    featuresConfig: { coverageTarget: 3, gapThreshold: 50, notifyOnGaps: true },
  },
  {
    name: '한국어 지식 도우미 (Korean Knowledge Assistant)',
    scopeDescription: '한국어 자료: 인공지능, 개인정보 보호, 클라우드 전환, 디지털 금융.',
    scope: ['research/korean-sources/*'],
    retrievalConfig: { top_k: 5, strategy: 'fulltext' },
    featuresConfig: { coverageTarget: 5, gapThreshold: 70, language: 'ko' },
  },
];

/** Days ago and the fraction of today's coverage each older history entry shows. */
const HISTORY_STEPS: Array<[daysAgo: number, fraction: number]> = [
  [27, 0.45],
  [20, 0.6],
  [13, 0.72],
  [6, 0.84],
  [2, 0.93],
];
const DAY_MS = 86_400_000;
const round2 = (value: number) => Math.round(value * 100) / 100;

export interface DemoNodeRow {
  id: string;
  key: string;
  parentId: string | null;
}

function resolveScope(spec: DemoAgentSpec, nodes: readonly DemoNodeRow[]): string[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  return spec.scope.flatMap((entry) => {
    const key = entry.replace(/\/\*$/, '');
    const node = byKey.get(key);
    if (!node) throw new Error(`demo agent ${spec.name}: unknown node key ${key}`);
    const selected = entry.endsWith('/*') ? nodes.filter((n) => n.parentId === node.id) : [node];
    return selected.map((n) => n.id);
  });
}

/** Older entries shaped like the ones computeAndRecordCoverage writes, rising towards today's report. */
function olderHistory(
  agentId: string,
  taxonomyVersion: string,
  report: CoverageReport,
  index: number,
  now: number,
) {
  return HISTORY_STEPS.map(([daysAgo, fraction]) => ({
    agentId,
    timestamp: new Date(now - daysAgo * DAY_MS - index * 3_600_000),
    overallCoverage: round2(report.overallCoverage * fraction),
    totalDocuments: Math.round(report.totalDocuments * fraction),
    totalChunks: Math.round(report.totalChunks * fraction),
    nodeCoverage: Object.fromEntries(
      report.nodes.map((n) => [publicId('TaxonomyNode', n.node.id), round2(n.coverage * fraction)]),
    ) as Prisma.InputJsonValue,
    taxonomyVersion,
  }));
}

/** Creates the demo agents through the agent service and records their coverage; returns how many. */
export async function createDemoAgents(
  taxonomyVersion: string,
  nodes: readonly DemoNodeRow[],
  owner: Caller,
): Promise<number> {
  const now = Date.now();
  for (const [index, spec] of DEMO_AGENTS.entries()) {
    const agent = await createAgent(
      {
        name: spec.name,
        taxonomyVersion,
        taxonomyNodeIds: resolveScope(spec, nodes),
        scopeDescription: spec.scopeDescription,
        retrievalConfig: spec.retrievalConfig,
        featuresConfig: spec.featuresConfig,
      },
      owner,
    );
    const report = await computeAndRecordCoverage(agent.id);
    await db().coverageHistory.createMany({
      data: olderHistory(agent.id, taxonomyVersion, report, index, now),
    });
    // The agent "existed" before its oldest history entry (the list stays in creation order).
    await db().agent.update({
      where: { id: agent.id },
      data: { createdAt: new Date(now - 30 * DAY_MS + index * 60_000) },
    });
  }
  return DEMO_AGENTS.length;
}

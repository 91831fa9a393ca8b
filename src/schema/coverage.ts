import { builder } from './builder.js';
import {
  computeAndRecordCoverage,
  type CoverageReport as CoverageReportShape,
  type NodeCoverage as NodeCoverageShape,
} from '../services/coverage/coverage.js';
import { coverageHistory, coverageTrend } from '../services/coverage/history.js';
import { rowIdWhere } from '../platform/ids.js';
import {
  coverageHistoryCountedFor,
  coverageHistoryVisibleTo,
} from '../services/auth/visibility.js';
import { Agent } from './agents.js';
import { TaxonomyNode } from './taxonomy.js';
import { writesWhenRead } from './writes-when-read.js';

export const NodeCoverage = builder.objectRef<NodeCoverageShape>('NodeCoverage').implement({
  fields: (t) => ({
    node: t.field({ type: TaxonomyNode, resolve: (coverage) => coverage.node }),
    documentCount: t.exposeInt('documentCount'),
    chunkCount: t.exposeInt('chunkCount'),
    targetDocuments: t.exposeInt('targetDocuments', {
      description:
        'The target the coverage is measured against (featuresConfig.coverageTarget, default 1).',
    }),
    missingDocuments: t.exposeInt('missingDocuments', {
      description: 'max(0, target - documents)',
    }),
    coverage: t.exposeFloat('coverage', { description: 'min(100, 100 * documents / target)' }),
    recommendation: t.exposeString('recommendation', {
      nullable: true,
      description: 'For gaps: what to ingest, in a sentence.',
    }),
  }),
});

export const CoverageReport = builder.objectRef<CoverageReportShape>('CoverageReport').implement({
  fields: (t) => ({
    overallCoverage: t.exposeFloat('overallCoverage', {
      description: 'Mean coverage of the selected nodes, 0..100.',
    }),
    totalDocuments: t.exposeInt('totalDocuments', {
      description: 'Distinct documents in the whole scope.',
    }),
    totalChunks: t.exposeInt('totalChunks'),
    nodes: t.expose('nodes', { type: [NodeCoverage] }),
    gaps: t.expose('gaps', {
      type: [NodeCoverage],
      description: 'Selected nodes under featuresConfig.gapThreshold (default 50).',
    }),
    computedAt: t.expose('computedAt', { type: 'DateTime' }),
  }),
});

export const CoverageHistoryEntry = builder.prismaNode('CoverageHistory', {
  variant: 'CoverageHistoryEntry',
  id: { field: 'id' },
  // node(id): as its agent.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [coverageHistoryVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    timestamp: t.expose('timestamp', { type: 'DateTime' }),
    overallCoverage: t.exposeFloat('overallCoverage'),
    totalDocuments: t.exposeInt('totalDocuments'),
    totalChunks: t.exposeInt('totalChunks'),
    nodeCoverage: t.expose('nodeCoverage', {
      type: 'JSON',
      description: 'Coverage per selected node, keyed by TaxonomyNode id.',
    }),
    taxonomyVersion: t.exposeString('taxonomyVersion'),
  }),
});

const TrendPeriod = builder.enumType('TrendPeriod', { values: ['WEEK', 'MONTH'] as const });

const CoverageTrend = builder
  .objectRef<{
    period: 'WEEK' | 'MONTH';
    start: number | null;
    end: number | null;
    change: number | null;
    entries: number;
  }>('CoverageTrend')
  .implement({
    fields: (t) => ({
      period: t.expose('period', { type: TrendPeriod }),
      start: t.exposeFloat('start', {
        nullable: true,
        description: 'The first overall coverage in the window.',
      }),
      end: t.exposeFloat('end', {
        nullable: true,
        description: 'The last overall coverage in the window.',
      }),
      change: t.exposeFloat('change', {
        nullable: true,
        description: 'end - start, in percentage points.',
      }),
      entries: t.exposeInt('entries'),
    }),
  });

builder.prismaObjectFields(Agent, (t) => ({
  coverage: t.field({
    type: CoverageReport,
    description: 'Computed now, and recorded: every computation appends a history entry.',
    extensions: writesWhenRead,
    resolve: (agent, _args, ctx) =>
      computeAndRecordCoverage(agent.id, { pubsub: ctx.pubsub, signal: ctx.signal }),
  }),
  coverageHistory: t.connection(
    {
      type: CoverageHistoryEntry,
      description:
        'Newest first. Pages forward only: `last` and `before` are refused (BAD_USER_INPUT).',
      args: { from: t.arg({ type: 'DateTime' }), to: t.arg({ type: 'DateTime' }) },
      resolve: (agent, args, ctx) =>
        coverageHistory(agent.id, args, coverageHistoryCountedFor(ctx.caller)),
    },
    {
      name: 'CoverageHistoryConnection',
      fields: (c) => ({ totalCount: c.exposeInt('totalCount') }),
    },
    { name: 'CoverageHistoryEdge' },
  ),
  coverageTrend: t.field({
    type: CoverageTrend,
    args: { period: t.arg({ type: TrendPeriod, required: true }) },
    resolve: (agent, { period }, ctx) =>
      coverageTrend(agent.id, period, coverageHistoryCountedFor(ctx.caller)),
  }),
}));

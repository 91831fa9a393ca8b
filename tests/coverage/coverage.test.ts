import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { deleteExpiredHistory } from '../../src/services/coverage/history.js';
import { CoverageQuery, CreateAgentMutation } from '../client/operations.js';
import { createCorpus, expectedCoverage, type Corpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

async function createAgent(
  corpus: Corpus,
  keys: string[],
  featuresConfig: Record<string, unknown> = {},
) {
  const response = await h.gql(CreateAgentMutation, {
    input: {
      name: `Agent ${keys.join('+')}`,
      taxonomyVersion: corpus.version,
      taxonomyNodeIds: keys.map((k) => corpus.nodeIds[k]),
      featuresConfig,
    },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.createAgentFromTaxonomy;
}

const historyQuery = `query($id: ID!, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  agent(id: $id) { coverageHistory(from: $from, to: $to, first: $first, after: $after) {
    totalCount edges { cursor node { id timestamp overallCoverage totalDocuments nodeCoverage taxonomyVersion } } pageInfo { hasNextPage endCursor } } } }`;

describe('coverage', () => {
  for (const [name, keys, target, threshold] of [
    ['default target 1', ['ai', 'db', 'empty'], undefined, undefined],
    ['target 2, threshold 60', ['ai', 'db', 'fin'], 2, 60],
    ['the root', ['tech'], 3, 50],
    ['overlapping scopes counted once in totals', ['ai', 'ml', 'nlp'], 2, 50],
  ] as const) {
    it(`matches the independently computed numbers: ${name}`, async () => {
      const corpus = await createCorpus(h);
      const features = {
        ...(target ? { coverageTarget: target } : {}),
        ...(threshold ? { gapThreshold: threshold } : {}),
      };
      const agent = await createAgent(corpus, [...keys], features);
      const expected = expectedCoverage(corpus, [...keys], target ?? 1, threshold ?? 50);
      const response = await h.gql(CoverageQuery, { id: agent.id });
      expect(response.errors).toBeUndefined();
      const report = response.data!.agent!.coverage;
      expect(report.overallCoverage).toBe(expected.overallCoverage);
      expect(report.totalDocuments).toBe(expected.totalDocuments);
      expect(report.totalChunks).toBe(expected.totalChunks);
      expect(
        report.nodes.map((n) => ({
          key: n.node.key,
          documentCount: n.documentCount,
          chunkCount: n.chunkCount,
          coverage: n.coverage,
        })),
      ).toEqual(expected.nodes);
      for (const node of report.nodes) {
        expect(node.targetDocuments).toBe(target ?? 1);
        expect(node.missingDocuments).toBe(Math.max(0, (target ?? 1) - node.documentCount));
        expect(Boolean(node.recommendation)).toBe(expected.gaps.includes(node.node.key));
      }
      expect(report.gaps.map((g) => g.node.key)).toEqual(expected.gaps);
    });
  }

  it('counts the same when planned as a large scope (hash joins, no JIT)', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['tech'], { coverageTarget: 3 });
    // Its last computation found a large scope: the next one is planned for one.
    await db().agent.update({ where: { id: rowId(agent.id) }, data: { totalDocuments: 50_000 } });
    const expected = expectedCoverage(corpus, ['tech'], 3, 50);
    const response = await h.gql(CoverageQuery, { id: agent.id });
    expect(response.errors).toBeUndefined();
    const report = response.data!.agent!.coverage;
    expect([report.overallCoverage, report.totalDocuments, report.totalChunks]).toEqual([
      expected.overallCoverage,
      expected.totalDocuments,
      expected.totalChunks,
    ]);
  });

  it('appends a history entry and updates the agent in the same computation', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['ai', 'db'], { coverageTarget: 2 });
    const first = (await h.gql(CoverageQuery, { id: agent.id })).data!.agent!.coverage;
    await h.gql(CoverageQuery, { id: agent.id });
    const stored = await db().agent.findUniqueOrThrow({ where: { id: rowId(agent.id) } });
    expect(stored.coveragePercent).toBe(first.overallCoverage);
    expect(stored.totalDocuments).toBe(first.totalDocuments);
    expect(stored.totalChunks).toBe(first.totalChunks);
    expect(stored.lastCoverageUpdate).not.toBeNull();
    const history = await db().coverageHistory.findMany({
      where: { agentId: rowId(agent.id) },
      orderBy: { timestamp: 'asc' },
    });
    expect(history).toHaveLength(2);
    expect(history[1]!.timestamp.toISOString()).toBe(stored.lastCoverageUpdate!.toISOString());
    expect(history[0]).toMatchObject({
      overallCoverage: first.overallCoverage,
      totalDocuments: first.totalDocuments,
      taxonomyVersion: corpus.version,
    });
    expect(history[0]!.nodeCoverage).toEqual({
      [corpus.nodeIds.ai!]: 100,
      [corpus.nodeIds.db!]: 50,
    });
  });

  it('computes synchronously through refreshCoverage(background: false)', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['pg']);
    const response = await h.gql(
      'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false }) { task { id } coverage { overallCoverage totalDocuments } } }',
      { id: agent.id },
    );
    expect(response.data.refreshCoverage).toEqual({
      task: null,
      coverage: { overallCoverage: 100, totalDocuments: 1 },
    });
    expect(await db().coverageHistory.count({ where: { agentId: rowId(agent.id) } })).toBe(1);
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    expect(
      errorCodes(
        await h.gql(
          'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false }) { coverage { overallCoverage } } }',
          { id: unknown },
        ),
      ),
    ).toEqual(['NOT_FOUND']);
  });
});

describe('coverage history and trend', () => {
  async function agentWithHistory(points: Array<[daysAgo: number, coverage: number]>) {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['ai']);
    const now = Date.now();
    await db().coverageHistory.createMany({
      data: points.map(([daysAgo, coverage]) => ({
        agentId: rowId(agent.id),
        timestamp: new Date(now - daysAgo * 86_400_000),
        overallCoverage: coverage,
        totalDocuments: 1,
        totalChunks: 1,
        nodeCoverage: {},
        taxonomyVersion: corpus.version,
      })),
    });
    return agent;
  }

  it('lists newest first, filters by from/to, paginates with totalCount', async () => {
    const agent = await agentWithHistory([
      [40, 10],
      [20, 20],
      [10, 30],
      [5, 40],
      [1, 50],
    ]);
    const all = (await h.gql(historyQuery, { id: agent.id })).data.agent.coverageHistory;
    expect(all.totalCount).toBe(5);
    expect(all.edges.map((e: any) => e.node.overallCoverage)).toEqual([50, 40, 30, 20, 10]);

    const from = new Date(Date.now() - 15 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const window = (await h.gql(historyQuery, { id: agent.id, from, to })).data.agent
      .coverageHistory;
    expect(window.totalCount).toBe(2);
    expect(window.edges.map((e: any) => e.node.overallCoverage)).toEqual([40, 30]);

    const seen: number[] = [];
    let after: string | null = null;
    do {
      const page: any = (await h.gql(historyQuery, { id: agent.id, first: 2, after })).data.agent
        .coverageHistory;
      seen.push(...page.edges.map((e: any) => e.node.overallCoverage));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([50, 40, 30, 20, 10]);

    expect(errorCodes(await h.gql(historyQuery, { id: agent.id, from: to, to: from }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(errorCodes(await h.gql(historyQuery, { id: agent.id, after: 'not-a-cursor' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('computes the weekly and monthly change from the first and last entries of the window', async () => {
    const agent = await agentWithHistory([
      [40, 10],
      [20, 22.5],
      [6, 30],
      [3, 35],
      [1, 47.25],
    ]);
    const trend = async (period: string) =>
      (
        await h.gql(
          'query($id: ID!, $p: TrendPeriod!) { agent(id: $id) { coverageTrend(period: $p) { period start end change entries } } }',
          { id: agent.id, p: period },
        )
      ).data.agent.coverageTrend;
    expect(await trend('WEEK')).toEqual({
      period: 'WEEK',
      start: 30,
      end: 47.25,
      change: 17.25,
      entries: 3,
    });
    expect(await trend('MONTH')).toEqual({
      period: 'MONTH',
      start: 22.5,
      end: 47.25,
      change: 24.75,
      entries: 4,
    });
    const empty = await agentWithHistory([[60, 10]]);
    expect(
      (
        await h.gql(
          'query($id: ID!) { agent(id: $id) { coverageTrend(period: WEEK) { start end change entries } } }',
          { id: empty.id },
        )
      ).data.agent.coverageTrend,
    ).toEqual({
      start: null,
      end: null,
      change: null,
      entries: 0,
    });
  });

  it('removes entries older than the retention period', async () => {
    const agent = await agentWithHistory([
      [100, 1],
      [91, 2],
      [89, 3],
    ]);
    await deleteExpiredHistory(90);
    const left = await db().coverageHistory.findMany({ where: { agentId: rowId(agent.id) } });
    expect(left.map((e) => e.overallCoverage)).toEqual([3]);
  });
});

import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { DEMO_AGENTS } from '../../src/demo/agents.js';
import { buildDemoDocuments } from '../../src/demo/documents.js';
import { DEMO_TAXONOMY_VERSION, loadDemoData } from '../../src/demo/load.js';
import { buildDemoTaxonomy } from '../../src/demo/taxonomy.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();

const taxonomyQuery = `query($version: String!) { taxonomy(version: $version) { name version nodes { id key label depth path } } }`;
const agentsQuery = `{ agents(first: 100) { totalCount edges { node { id name taxonomyVersion totalDocuments coveragePercent } } } }`;
const coverageQuery = `query($id: ID!) { agent(id: $id) { coverage { overallCoverage totalDocuments nodes { node { key } coverage } gaps { node { label } coverage recommendation } } } }`;
const searchQuery = `query($agentId: ID!, $query: String!, $topK: Int) {
  queryAgent(agentId: $agentId, query: $query, topK: $topK) { totalResults hits { index documentId title content score } } }`;
const historyQuery = `query($id: ID!) { agent(id: $id) {
  coverageHistory(first: 20) { totalCount edges { node { timestamp overallCoverage } } }
  week: coverageTrend(period: WEEK) { start end change entries }
  month: coverageTrend(period: MONTH) { start end change entries } } }`;

async function counts() {
  const [taxonomies, nodes, documents, links, chunks, agents, history, users] = await Promise.all([
    db().taxonomy.count(),
    db().taxonomyNode.count(),
    db().document.count(),
    db().documentNode.count(),
    db().chunk.count(),
    db().agent.count(),
    db().coverageHistory.count(),
    db().user.count(),
  ]);
  return { taxonomies, nodes, documents, links, chunks, agents, history, users };
}

async function agentsByName(): Promise<
  Map<string, { id: string; totalDocuments: number; coveragePercent: number | null }>
> {
  const response = await h.gql(agentsQuery);
  expect(response.errors).toBeUndefined();
  return new Map(response.data.agents.edges.map((e: any) => [e.node.name, e.node]));
}

describe('demo data', () => {
  it('generates the same taxonomy and corpus every time', () => {
    const nodes = buildDemoTaxonomy();
    expect(buildDemoTaxonomy()).toEqual(nodes);
    expect(buildDemoDocuments(nodes)).toEqual(buildDemoDocuments(nodes));
  });

  it('loads a taxonomy of 250-400 nodes over at least 3 levels, documents and agents', async () => {
    // How long the first start waits for this is a benchmark's (npm run bench -- demo).
    await loadDemoData();

    const response = await h.gql(taxonomyQuery, { version: DEMO_TAXONOMY_VERSION });
    expect(response.errors).toBeUndefined();
    const taxonomy = response.data.taxonomy;
    expect(taxonomy.name).toBe('Enterprise Knowledge');
    expect(taxonomy.nodes.length).toBeGreaterThanOrEqual(250);
    expect(taxonomy.nodes.length).toBeLessThanOrEqual(400);
    const depths = new Set<number>(taxonomy.nodes.map((n: any) => n.depth));
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(2); // depths 0, 1, 2, ...: at least 3 levels
    expect(depths.size).toBeGreaterThanOrEqual(3);
    // UTF-8 labels round-trip.
    const ai = taxonomy.nodes.find((n: any) => n.label === '인공지능');
    expect(ai).toMatchObject({
      key: 'research/korean-sources/ai',
      path: ['Research', '한국어 자료', '인공지능'],
      depth: 2,
    });

    const loaded = await counts();
    expect(loaded.taxonomies).toBe(1);
    expect(loaded.documents).toBeGreaterThanOrEqual(500);
    expect(loaded.chunks).toBeGreaterThan(loaded.documents);
    expect(loaded.links).toBeGreaterThan(loaded.documents); // some documents are filed under two nodes
    expect(loaded.agents).toBe(DEMO_AGENTS.length);
    expect(await db().user.count({ where: { name: 'demo' } })).toBe(1);
    // Every agent: one computed entry plus the older ones.
    expect(loaded.history).toBe(DEMO_AGENTS.length * 6);

    const agents = await agentsByName();
    expect([...agents.keys()].sort()).toEqual(DEMO_AGENTS.map((a) => a.name).sort());
    for (const agent of agents.values()) expect(agent.coveragePercent).not.toBeNull();
  });

  it('does nothing the second time', async () => {
    const before = await counts();
    await loadDemoData();
    expect(await counts()).toEqual(before);
  });

  it('shows gaps for the sparse agent and coverage for the others', async () => {
    const agents = await agentsByName();
    const coverage = async (name: string) => {
      const response = await h.gql(coverageQuery, { id: agents.get(name)!.id });
      expect(response.errors).toBeUndefined();
      return response.data.agent.coverage;
    };
    const sparse = await coverage('Facilities & Sustainability Planner');
    expect(sparse.gaps.length).toBeGreaterThan(0);
    expect(sparse.gaps[0].node.label).toBeTruthy();
    expect(sparse.gaps[0].recommendation).toMatch(/^Ingest \d+ more document/);
    expect(sparse.overallCoverage).toBeLessThan(50);

    const healthcare = await coverage('Healthcare Knowledge Assistant');
    expect(healthcare.overallCoverage).toBeGreaterThan(0);
    expect(healthcare.totalDocuments).toBeGreaterThan(100);
    expect(healthcare.nodes.map((n: any) => n.node.key)).toEqual(['healthcare']);
    const ml = await coverage('ML Platform Copilot');
    expect(ml.overallCoverage).toBeGreaterThan(0);
    expect(ml.nodes.length).toBeGreaterThan(1);
  });

  it('has a month of rising coverage history', async () => {
    const agents = await agentsByName();
    const response = await h.gql(historyQuery, { id: agents.get('Compliance Advisor')!.id });
    expect(response.errors).toBeUndefined();
    const { coverageHistory, week, month } = response.data.agent;
    expect(coverageHistory.totalCount).toBeGreaterThanOrEqual(6);
    const values = coverageHistory.edges.map((e: any) => e.node.overallCoverage).reverse();
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(month.entries).toBeGreaterThanOrEqual(6);
    expect(month.change).toBeGreaterThan(0);
    expect(week.entries).toBeGreaterThanOrEqual(3);
    expect(week.change).toBeGreaterThan(0);
  });

  it('answers full-text queries within each agent scope', async () => {
    const agents = await agentsByName();
    for (const [name, query] of [
      ['Compliance Advisor', 'compliance'],
      ['ML Platform Copilot', '"vector index"'],
      ['Treasury & Cash Flow Analyst', 'cash flow'],
      ['Clinical Data Steward', 'patient data'],
    ] as const) {
      const response = await h.gql(searchQuery, { agentId: agents.get(name)!.id, query, topK: 5 });
      expect(response.errors, name).toBeUndefined();
      const { hits, totalResults } = response.data.queryAgent;
      expect(hits, `${name}: ${query}`).toHaveLength(5);
      expect(totalResults, `${name}: ${query}`).toBeGreaterThanOrEqual(5);
      const scores = hits.map((hit: any) => hit.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    // Outside the scope: the Korean agent has no English finance documents.
    const korean = agents.get('한국어 지식 도우미 (Korean Knowledge Assistant)')!;
    expect(
      (await h.gql(searchQuery, { agentId: korean.id, query: 'cash flow' })).data.queryAgent
        .totalResults,
    ).toBe(0);
  });

  it('round-trips Korean documents through ingestion and search', async () => {
    const agents = await agentsByName();
    const korean = agents.get('한국어 지식 도우미 (Korean Knowledge Assistant)')!;
    const response = await h.gql(searchQuery, { agentId: korean.id, query: '인공지능', topK: 5 });
    expect(response.errors).toBeUndefined();
    const { hits } = response.data.queryAgent;
    expect(hits.length).toBe(5);
    expect(hits[0].title).toMatch(/^[가-힣 ]+$/);
    expect(hits[0].content).toContain('인공지능 기술은 빠르게 발전하고 있으며');

    const stored = await db().document.findMany({
      where: { title: hits[0].title },
      include: { chunks: { orderBy: { ordinal: 'asc' } } },
    });
    expect(stored.length).toBeGreaterThan(0);
    const generated = buildDemoDocuments(buildDemoTaxonomy()).filter(
      (d) => d.title === hits[0].title,
    );
    expect(stored.map((d) => d.content).sort()).toEqual(generated.map((d) => d.content).sort());
    for (const doc of stored)
      expect(doc.chunks.map((c) => c.content).join('\n\n')).toBe(doc.content);
  });
});

describe('demo templates', () => {
  it('has official, public report templates whose guides give planTopic its sections', async () => {
    await loadDemoData();
    const listed = await h.gql(
      '{ templates(filter: { isOfficial: true }) { totalCount edges { node { id name isPublic isOfficial promptSystem } } } }',
    );
    expect(listed.errors).toBeUndefined();
    const templates = listed.data.templates.edges.map((e: any) => e.node);
    expect(templates.length).toBeGreaterThanOrEqual(3);
    expect(templates.every((t: any) => t.isPublic && t.isOfficial)).toBe(true);
    const market = templates.find((t: any) => t.name.includes('Market analysis'));
    const planned = await h.gql(
      'mutation($input: PlanTopicInput!) { planTopic(input: $input) { sections { title order } } }',
      {
        input: { topic: 'AI agents in insurance', templateId: market.id },
      },
    );
    expect(planned.errors).toBeUndefined();
    expect(planned.data.planTopic.sections.map((s: any) => s.title)).toEqual(
      expect.arrayContaining(['Executive summary', 'Market overview', 'Competitive landscape']),
    );
  });
});

// A clone of another team's agent keeps that team's scope nodes, and reads them only for a
// reader in that team: a member who clones and is then removed, or whoever the clone's team
// lets in, finds nothing of the first team's documents (every document belongs to
// one team; a removed member's reads end at once).
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import { createTeam, join, mint } from '../utils/teams.js';

const h = useHarness();

const TAXONOMY = `mutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { nodes { id } } }`;
const AGENT = `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }`;
const INGEST = `mutation($v: String!, $documents: [DocumentInput!]!) {
  ingestDocuments(taxonomyVersion: $v, documents: $documents) { documentCount } }`;
const CLONE = `mutation($id: ID!) { cloneAgent(id: $id) { id } }`;
const QUERY = `query($id: ID!, $q: String!) { queryAgent(agentId: $id, query: $q) { totalResults hits { title } } }`;
const REMOVE = 'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }';
const COVERAGE = `query($id: ID!) { agent(id: $id) { coverage { totalDocuments nodes { documentCount } } } }`;
const RECORDED = `query($id: ID!) { agent(id: $id) { coveragePercent totalDocuments } }`;
const HISTORY = `query($id: ID!) { agent(id: $id) {
  coverageHistory(first: 10) { totalCount edges { node { id totalDocuments } } }
  coverageTrend(period: WEEK) { entries } } }`;
const ENTRY = `query($id: ID!) { node(id: $id) { ... on CoverageHistoryEntry { totalDocuments } } }`;

async function ok(query: string, variables: Record<string, unknown>, key: string) {
  const response = await h.gql(query, variables, key);
  expect(response.errors, query.slice(0, 50)).toBeUndefined();
  return response.data;
}

/** A team with an agent over one document, and Carol, a VIEWER of it (her personal key). */
async function teamWithSecret(slug: string) {
  const owner = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, owner.key, slug);
  const ownerKey = (await mint(h, `${slug}-owner`, ['ADMIN'], teamId, owner.key)).key;
  const version = `${slug}-v1`;
  const nodes = (
    await ok(
      TAXONOMY,
      { input: { version, name: 't', nodes: [{ key: 'root', label: 'Root' }] } },
      ownerKey,
    )
  ).createTaxonomy.nodes;
  const agent = (
    await ok(
      AGENT,
      { input: { name: 'secrets', taxonomyVersion: version, taxonomyNodeIds: [nodes[0].id] } },
      ownerKey,
    )
  ).createAgentFromTaxonomy.id;
  await ok(
    INGEST,
    {
      v: version,
      documents: [
        {
          title: 'Board minutes',
          content: 'Confidential: the quokka acquisition is approved.',
          taxonomyNodeIds: [nodes[0].id],
        },
      ],
    },
    ownerKey,
  );
  const carol = await mint(h, `${slug}-carol`, ['ADMIN']);
  await join(h, ownerKey, teamId, carol.key, 'VIEWER');
  return { teamId, ownerKey, agent, carol: carol.key, carolName: `${slug}-carol` };
}

describe('a clone of another team’s agent', () => {
  it('reads that team’s documents only for a reader in that team', async () => {
    const { teamId, ownerKey, agent, carol, carolName } = await teamWithSecret('clone');
    // Carol's personal key: the clone lands in her own team.
    const clone = (await ok(CLONE, { id: agent }, carol)).cloneAgent.id;
    const found = async (key: string) =>
      (await ok(QUERY, { id: clone, q: 'quokka' }, key)).queryAgent.totalResults;
    expect(await found(carol)).toBe(1);
    // Eve is in Carol's team, never in the first: the clone shows her nothing of it.
    const carolsTeam = (await ok('{ viewer { team { id } } }', {}, carol)).viewer.team.id;
    const eve = await mint(h, 'clone-eve', ['READ']);
    await join(h, carol, carolsTeam, eve.key, 'VIEWER');
    expect(await found(eve.key)).toBe(0);
    await ok(REMOVE, { t: teamId, u: carolName }, ownerKey);
    expect(await found(carol)).toBe(0);
    // The first team's members still read it through the clone's original.
    expect(
      (await ok(QUERY, { id: agent, q: 'quokka' }, ownerKey)).queryAgent.hits.map(
        (hit: { title: string }) => hit.title,
      ),
    ).toEqual(['Board minutes']);
  });

  it('counts in its coverage only the documents every member of its team may read', async () => {
    const { teamId, ownerKey, agent, carol, carolName } = await teamWithSecret('clone-coverage');
    const clone = (await ok(CLONE, { id: agent }, carol)).cloneAgent.id;
    const coverage = async (id: string, key: string) =>
      (await ok(COVERAGE, { id }, key)).agent as {
        coverage: { totalDocuments: number; nodes: Array<{ documentCount: number }> };
      };
    // Carol's own team is Carol alone, and she reads the first team: its document counts.
    expect((await coverage(clone, carol)).coverage.totalDocuments).toBe(1);
    // Eve joins Carol's team, never the first: its documents count no more, for anyone.
    const carolsTeam = (await ok('{ viewer { team { id } } }', {}, carol)).viewer.team.id;
    const eve = await mint(h, 'clone-coverage-eve', ['READ']);
    await join(h, carol, carolsTeam, eve.key, 'VIEWER');
    const seen = await coverage(clone, carol);
    expect(seen.coverage).toMatchObject({ totalDocuments: 0, nodes: [{ documentCount: 0 }] });
    // And what it recorded, which every member reads.
    expect((await ok(RECORDED, { id: clone }, eve.key)).agent).toEqual({
      coveragePercent: 0,
      totalDocuments: 0,
    });
    expect((await coverage(clone, eve.key)).coverage.totalDocuments).toBe(0);
    // Nor once Carol is alone again but out of the first team.
    await ok(REMOVE, { t: carolsTeam, u: 'clone-coverage-eve' }, carol);
    await ok(REMOVE, { t: teamId, u: carolName }, ownerKey);
    expect((await coverage(clone, carol)).coverage.totalDocuments).toBe(0);
    // The original counts it for its own team.
    expect((await coverage(agent, ownerKey)).coverage.totalDocuments).toBe(1);
  });

  it('lists a history entry that counted that team’s documents only to its members now', async () => {
    const { teamId, ownerKey, agent, carol, carolName } = await teamWithSecret('clone-history');
    const clone = (await ok(CLONE, { id: agent }, carol)).cloneAgent.id;
    const history = async (key: string) => {
      const read = (await ok(HISTORY, { id: clone }, key)).agent;
      return {
        totalCount: read.coverageHistory.totalCount,
        documents: read.coverageHistory.edges.map(
          (edge: { node: { totalDocuments: number } }) => edge.node.totalDocuments,
        ),
        trendEntries: read.coverageTrend.entries,
        ids: read.coverageHistory.edges.map((edge: { node: { id: string } }) => edge.node.id),
      };
    };
    // Recorded while Carol's team is Carol alone: it counted the first team's document.
    await ok(COVERAGE, { id: clone }, carol);
    const [counted] = (await history(carol)).ids;
    // Eve joins Carol's team, never the first: the entry is not hers to read, by any way.
    const carolsTeam = (await ok('{ viewer { team { id } } }', {}, carol)).viewer.team.id;
    const eve = await mint(h, 'clone-history-eve', ['READ']);
    await join(h, carol, carolsTeam, eve.key, 'VIEWER');
    expect(await history(eve.key)).toEqual({
      totalCount: 0,
      documents: [],
      trendEntries: 0,
      ids: [],
    });
    expect((await ok(ENTRY, { id: counted }, eve.key)).node).toBeNull();
    // What is recorded now counts none of it: Eve reads that one; Carol, in both teams, both.
    await ok(COVERAGE, { id: clone }, carol);
    expect(await history(eve.key)).toMatchObject({
      totalCount: 1,
      documents: [0],
      trendEntries: 1,
    });
    expect(await history(carol)).toMatchObject({
      totalCount: 2,
      documents: [0, 1],
      trendEntries: 2,
    });
    expect((await ok(ENTRY, { id: counted }, carol)).node).toEqual({ totalDocuments: 1 });
    // Out of the first team, Carol reads it no more either.
    await ok(REMOVE, { t: teamId, u: carolName }, ownerKey);
    expect(await history(carol)).toMatchObject({ totalCount: 1, documents: [0], trendEntries: 1 });
    expect((await ok(ENTRY, { id: counted }, carol)).node).toBeNull();
  });

  it('writes a report from the documents its asker may read now, not a team they left', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const { teamId, ownerKey, agent, carol, carolName } = await teamWithSecret('clone-report');
    // Planned while Carol is in the team: a topic of her own team over its agent.
    const topic = (
      await ok(
        'mutation($a: ID!) { planTopic(input: { topic: "Quokka acquisition", agentId: $a }) { topic { id } } }',
        { a: agent },
        carol,
      )
    ).planTopic.topic.id;
    await ok(REMOVE, { t: teamId, u: carolName }, ownerKey);
    await ok(
      'mutation($id: ID!) { generateTopicReport(input: { topicId: $id, plan: "## Quokka acquisition" }) { id } }',
      { id: topic },
      carol,
    );
    const done = await waitFor(async () => {
      const read = await ok(
        'query($id: ID!) { topic(id: $id) { status artifact { markdown } } }',
        { id: topic },
        carol,
      );
      return read.topic.status === 'COMPLETED' ? read.topic : undefined;
    }, 'the report written');
    expect(done.artifact.markdown).toContain('Quokka acquisition');
    expect(done.artifact.markdown).not.toContain('Board minutes');
    expect(done.artifact.markdown).not.toContain('Confidential');
  });

  it('workflow steps read as the key that started them: a delegated key reaches no other team', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const { agent, carol } = await teamWithSecret('clone-flow');
    const clone = (await ok(CLONE, { id: agent }, carol)).cloneAgent.id;
    // Eve, an OWNER of Carol's team and never of the first, mints Carol a key of that team.
    const carolsTeam = (await ok('{ viewer { team { id } } }', {}, carol)).viewer.team.id;
    const eve = await mint(h, 'clone-flow-eve', ['ADMIN']);
    await join(h, carol, carolsTeam, eve.key, 'OWNER');
    const eveInTeam = (await mint(h, 'clone-flow-eve', ['ADMIN'], carolsTeam, eve.key)).key;
    const delegated = (
      await ok(
        'mutation($t: ID!) { createApiKey(input: { user: "clone-flow-carol", name: "d", scopes: [WRITE], teamId: $t }) { key } }',
        { t: carolsTeam },
        eveInTeam,
      )
    ).createApiKey.key;
    const retrieved = async (key: string) => {
      const run = (
        await ok(
          'mutation($a: ID!) { runWorkflow(input: { goal: "quokka acquisition", agentIds: [$a] }) { id } }',
          { a: clone },
          key,
        )
      ).runWorkflow.id;
      const done = await waitFor(async () => {
        const read = await ok(
          'query($id: ID!) { workflow(id: $id) { status steps { kind result } } }',
          { id: run },
          key,
        );
        return ['SUCCEEDED', 'FAILED'].includes(read.workflow.status) ? read.workflow : undefined;
      }, 'the workflow ended');
      return JSON.stringify(done.steps.filter((s: { kind: string }) => s.kind === 'RETRIEVE'));
    };
    // Carol's own key reads the first team's document (she is in it); the delegated key not.
    expect(await retrieved(carol)).toContain('Board minutes');
    expect(await retrieved(delegated)).not.toContain('Board minutes');
    // The operator's key (no key row) reads every team, here through another team's agent.
    expect(await retrieved(h.adminKey)).toContain('Board minutes');
  });
});

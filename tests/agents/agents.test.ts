import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { AgentsQuery, CreateAgentMutation } from '../client/operations.js';
import { createCorpus, type Corpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

async function createAgent(
  corpus: Corpus,
  name: string,
  keys = ['ai', 'db'],
  extra: Record<string, unknown> = {},
) {
  const response = await h.gql(CreateAgentMutation, {
    input: {
      name,
      taxonomyVersion: corpus.version,
      taxonomyNodeIds: keys.map((k) => corpus.nodeIds[k]),
      ...extra,
    },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.createAgentFromTaxonomy;
}

describe('agents', () => {
  it('creates an agent from a taxonomy scope and reads it by id and through node(id)', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, 'Tech agent', ['ai', 'db'], {
      retrievalConfig: { top_k: 5 },
      featuresConfig: { coverageTarget: 2 },
    });
    expect(agent).toMatchObject({
      name: 'Tech agent',
      taxonomyVersion: corpus.version,
      coveragePercent: null,
      totalDocuments: 0,
      retrievalConfig: { top_k: 5 },
    });
    expect(agent.taxonomyNodes.map((n) => n.label)).toEqual([
      'Artificial Intelligence',
      'Databases',
    ]);
    const byId = await h.gql(
      'query($id: ID!) { agent(id: $id) { id name } node(id: $id) { id ... on Agent { name } } }',
      { id: agent.id },
    );
    expect(byId.data).toEqual({
      agent: { id: agent.id, name: 'Tech agent' },
      node: { id: agent.id, name: 'Tech agent' },
    });
    expect(
      (await h.gql('query($id: ID!) { agent(id: $id) { id } }', { id: 'bogus' })).data.agent,
    ).toBeNull();
  });

  it('refuses node ids outside the version, naming them', async () => {
    const a = await createCorpus(h);
    const b = await createCorpus(h);
    const response = await h.gql(CreateAgentMutation, {
      input: {
        name: 'x',
        taxonomyVersion: a.version,
        taxonomyNodeIds: [a.nodeIds.ai, b.nodeIds.db],
      },
    });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toContain(b.nodeIds.db);
    const badConfig = await h.gql(CreateAgentMutation, {
      input: {
        name: 'x',
        taxonomyVersion: a.version,
        taxonomyNodeIds: [a.nodeIds.ai],
        retrievalConfig: { top_k: 1000 },
      },
    });
    expect(errorCodes(badConfig)).toEqual(['BAD_USER_INPUT']);
    expect(await db().agent.count({ where: { name: 'x' } })).toBe(0);
  });

  it('lists newest first, searches case-insensitively, paginates and counts', async () => {
    const corpus = await createCorpus(h);
    for (const name of ['Alpha Research', 'beta research', 'Gamma Ops', 'RESEARCH Delta'])
      await createAgent(corpus, name);
    const search = await h.gql(AgentsQuery, { search: 'research' });
    expect(search.data!.agents.totalCount).toBe(3);
    expect(search.data!.agents.edges.map((e) => e.node.name)).toEqual([
      'RESEARCH Delta',
      'beta research',
      'Alpha Research',
    ]);
    const all = await h.gql(AgentsQuery, { search: '' });
    expect(all.data!.agents.totalCount).toBe(await db().agent.count());

    const names: string[] = [];
    let after: string | null | undefined;
    do {
      const page = await h.gql(AgentsQuery, { first: 2, after });
      names.push(...page.data!.agents.edges.map((e) => e.node.name));
      after = page.data!.agents.pageInfo.hasNextPage ? page.data!.agents.pageInfo.endCursor : null;
    } while (after);
    expect(names).toHaveLength(await db().agent.count());
    expect(new Set(names).size).toBe(names.length);

    expect(errorCodes(await h.gql(AgentsQuery, { first: 101 }))).toEqual(['BAD_USER_INPUT']);
    expect((await h.gql(AgentsQuery, { first: 100 })).errors).toBeUndefined();
  });

  it('updates only the mutable fields sent, and rejects immutable ones', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, 'Before', ['ai'], { scopeDescription: 'keep me' });
    const update =
      'mutation($id: ID!, $input: UpdateAgentInput!) { updateAgent(id: $id, input: $input) { name scopeDescription retrievalConfig updatedAt } }';
    const renamed = await h.gql(update, {
      id: agent.id,
      input: { name: 'After', retrievalConfig: { top_k: 3, strategy: 'hybrid' } },
    });
    expect(renamed.data.updateAgent).toMatchObject({
      name: 'After',
      scopeDescription: 'keep me',
      retrievalConfig: { top_k: 3, strategy: 'hybrid' },
    });

    const immutable = await h.gql(update, { id: agent.id, input: { taxonomyVersion: '2.0.0' } });
    expect(errorCodes(immutable)).toEqual(['BAD_USER_INPUT']);
    expect(immutable.errors![0]!.message).toContain('taxonomyVersion');
    const stored = await db().agent.findUniqueOrThrow({ where: { id: rowId(agent.id) } });
    expect(stored.taxonomyVersion).toBe(corpus.version);

    expect(
      errorCodes(
        await h.gql(update, { id: agent.id, input: { retrievalConfig: { top_k: 'ten' } } }),
      ),
    ).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(update, { id: agent.id, input: {} }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    expect(errorCodes(await h.gql(update, { id: unknown, input: { name: 'x' } }))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('deletes with its history, tasks and events; a second delete is NOT_FOUND', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, 'Doomed');
    await h.gql('query($id: ID!) { agent(id: $id) { coverage { overallCoverage } } }', {
      id: agent.id,
    });
    const id = rowId(agent.id);
    const { teamId } = await db().agent.findUniqueOrThrow({ where: { id } });
    const task = await db().task.create({
      data: { type: 'coverage_refresh', agentId: id, teamId },
    });
    await db().taskEvent.create({
      data: { taskId: task.id, sequence: 1, status: 'PENDING', progressPercent: 0 },
    });
    expect(await db().coverageHistory.count({ where: { agentId: id } })).toBe(1);

    const del = 'mutation($id: ID!) { deleteAgent(id: $id) }';
    expect((await h.gql(del, { id: agent.id })).data.deleteAgent).toBe(agent.id);
    expect(await db().agentNode.count({ where: { agentId: id } })).toBe(0);
    expect(await db().coverageHistory.count({ where: { agentId: id } })).toBe(0);
    expect(await db().task.count({ where: { agentId: id } })).toBe(0);
    expect(await db().taskEvent.count({ where: { taskId: task.id } })).toBe(0);
    expect(errorCodes(await h.gql(del, { id: agent.id }))).toEqual(['NOT_FOUND']);
  });

  it('bulk-updates and bulk-deletes all or nothing, and clones', async () => {
    const corpus = await createCorpus(h);
    const a = await createAgent(corpus, 'Bulk A');
    const b = await createAgent(corpus, 'Bulk B');
    const missing = Buffer.from('Agent:00000000-0000-0000-0000-000000000001').toString('base64');
    const bulkUpdate =
      'mutation($ids: [ID!]!, $input: UpdateAgentInput!) { bulkUpdateAgents(ids: $ids, input: $input) { applied results { id ok error } } }';
    const refused = await h.gql(bulkUpdate, {
      ids: [a.id, missing],
      input: { scopeDescription: 'bulk' },
    });
    expect(refused.data.bulkUpdateAgents).toEqual({
      applied: false,
      results: [
        { id: a.id, ok: false, error: 'NOT_APPLIED' },
        { id: missing, ok: false, error: 'NOT_FOUND' },
      ],
    });
    expect(
      (await db().agent.findUniqueOrThrow({ where: { id: rowId(a.id) } })).scopeDescription,
    ).toBeNull();
    const applied = await h.gql(bulkUpdate, {
      ids: [a.id, b.id],
      input: { scopeDescription: 'bulk' },
    });
    expect(applied.data.bulkUpdateAgents.applied).toBe(true);
    expect(await db().agent.count({ where: { scopeDescription: 'bulk' } })).toBe(2);

    const clone = await h.gql(
      'mutation($id: ID!) { cloneAgent(id: $id) { id name taxonomyNodes { label } scopeDescription } }',
      { id: a.id },
    );
    expect(clone.data.cloneAgent).toMatchObject({
      name: 'Bulk A (copy)',
      scopeDescription: 'bulk',
      taxonomyNodes: [{ label: 'Artificial Intelligence' }, { label: 'Databases' }],
    });

    const bulkDelete =
      'mutation($ids: [ID!]!) { bulkDeleteAgents(ids: $ids) { applied results { ok error } } }';
    expect((await h.gql(bulkDelete, { ids: [a.id, missing] })).data.bulkDeleteAgents.applied).toBe(
      false,
    );
    expect(await db().agent.count({ where: { id: rowId(a.id) } })).toBe(1);
    expect((await h.gql(bulkDelete, { ids: [a.id, b.id] })).data.bulkDeleteAgents.applied).toBe(
      true,
    );
    expect(await db().agent.count({ where: { id: { in: [rowId(a.id), rowId(b.id)] } } })).toBe(0);
  });

  it('lists agents with their taxonomy nodes in a constant number of SQL statements', async () => {
    const corpus = await createCorpus(h);
    const query = '{ agents(first: 50) { edges { node { taxonomyNodes { label } } } } }';
    const count = async () => {
      h.queryLog.length = 0;
      const response = await h.gql(query);
      expect(response.errors).toBeUndefined();
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    await createAgent(corpus, 'N+1 probe 1');
    const withFew = await count();
    for (let i = 0; i < 20; i++) await createAgent(corpus, `N+1 probe extra ${i}`);
    const withMany = await count();
    expect(withMany).toBe(withFew);
    expect(withMany).toBeLessThanOrEqual(5);
  });
});

describe('node(id)', () => {
  it('answers malformed and unknown ids with a client error, never an internal one', async () => {
    const ids = [
      Buffer.from('Agent:nope').toString('base64'),
      Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64'),
      'garbage!!',
    ];
    for (const id of ids) {
      const response = await h.gql('query($id: ID!) { node(id: $id) { id } }', { id });
      expect(response.data?.node ?? null).toBeNull();
      expect(errorCodes(response)).not.toContain('INTERNAL_SERVER_ERROR');
    }
  });
});

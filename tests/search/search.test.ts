import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus, type Corpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { redisAvailable, useHarness, type PubSubKind } from '../utils/harness.js';
import { collect, listen, sseClient } from '../utils/sse.js';

const h = useHarness();

async function createAgent(
  corpus: Corpus,
  keys: string[],
  retrievalConfig: Record<string, unknown> = {},
) {
  const response = await h.gql(CreateAgentMutation, {
    input: {
      name: `Search ${keys.join('+')}`,
      taxonomyVersion: corpus.version,
      taxonomyNodeIds: keys.map((k) => corpus.nodeIds[k]),
      retrievalConfig,
    },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.createAgentFromTaxonomy;
}

const search = `query($agentId: ID!, $query: String!, $topK: Int) {
  queryAgent(agentId: $agentId, query: $query, topK: $topK) { totalResults totalResultsIsEstimate queryTimeMs hits { index documentId chunkId title content score } } }`;

/** Chunks of the agent's scope whose text matches, counted here from the fixture's chunks (PostgreSQL's analysis). */
async function countMatching(agentGlobalId: string, tsquery: string): Promise<number> {
  const agentId = parseGlobalId('Agent', agentGlobalId)!;
  const [row] = await db().$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM chunks c
    WHERE c.tsv @@ to_tsquery('english', ${tsquery})
      AND EXISTS (SELECT 1 FROM document_nodes dn JOIN taxonomy_nodes n ON n.id = dn."nodeId" JOIN agent_nodes an ON an."nodeId" = ANY (n."ancestorIds")
                  WHERE dn."documentId" = c."documentId" AND an."agentId" = ${agentId}::uuid)`;
  return row!.n;
}

describe('queryAgent', () => {
  it('ranks a chunk with the exact phrase above one without it, within the scope only', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['tech']);
    const response = await h.gql(search, { agentId: agent.id, query: '"gradient descent" loss' });
    expect(response.errors).toBeUndefined();
    const result = response.data.queryAgent;
    expect(result.hits[0].title).toBe('Gradient descent explained');
    expect(result.hits.map((hit: any) => hit.index)).toEqual(
      result.hits.map((_: unknown, i: number) => i),
    );
    expect(result.queryTimeMs).toBeGreaterThan(0);

    const vacuum = (await h.gql(search, { agentId: agent.id, query: 'vacuum' })).data.queryAgent;
    // d4 (Finance) mentions vacuum too, but it is outside the agent's scope.
    expect(vacuum.hits.map((hit: any) => hit.title)).toEqual(['Vacuum and autovacuum']);

    const ranked = (await h.gql(search, { agentId: agent.id, query: 'language models text' })).data
      .queryAgent.hits;
    const scores = ranked.map((hit: any) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('takes topK from the argument, else retrievalConfig.top_k, else 10; totalResults counts every match', async () => {
    const corpus = await createCorpus(h);
    const configured = await createAgent(corpus, ['ai'], { top_k: 2 });
    const plain = await createAgent(corpus, ['ai']);
    const run = async (agentId: string, topK?: number) =>
      (await h.gql(search, { agentId, query: 'language', topK })).data.queryAgent;
    const matches = await countMatching(configured.id, 'language');
    expect(matches).toBeGreaterThan(2);
    for (const [agent, topK, hits] of [
      [configured, undefined, 2],
      [configured, 1, 1],
      [plain, undefined, Math.min(10, matches)],
    ] as const) {
      const result = await run(agent.id, topK);
      expect(result.hits).toHaveLength(hits);
      expect(result).toMatchObject({ totalResults: matches, totalResultsIsEstimate: false });
    }
  });

  it('answers a question in plain words: any word matches, ranked by BM25', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['tech']);
    const result = (
      await h.gql(search, {
        agentId: agent.id,
        query: 'how does postgres reclaim the dead tuples left behind?',
      })
    ).data.queryAgent;
    expect(result.hits[0].title).toBe('Vacuum and autovacuum');
    expect(result.totalResults).toBe(
      await countMatching(agent.id, 'postgr | reclaim | dead | tupl | left | behind'),
    );
  });

  it('honours the web search syntax: a quoted phrase must appear, a minus word must not', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['tech']);
    const titles = async (query: string) =>
      (await h.gql(search, { agentId: agent.id, query, topK: 20 })).data.queryAgent.hits.map(
        (hit: any) => hit.title,
      );
    expect(await titles('"language models" text')).toEqual([
      'Transformers in practice',
      'Transformers in practice',
      'Transformers in practice',
    ]);
    expect(await titles('vacuum OR gradient')).toEqual(
      expect.arrayContaining(['Vacuum and autovacuum', 'Gradient descent explained']),
    );
    expect(await titles('vacuum OR gradient -autovacuum')).toEqual(['Gradient descent explained']);
    expect(await titles('data -"artificial intelligence"')).not.toContain('한국어 문서');
    expect(await titles('data')).toContain('한국어 문서');
  });

  it('finds Korean text whatever particles follow the word', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['ai']);
    for (const query of [
      '인공지능',
      '인공지능이',
      '인공지능을',
      '데이터',
      '데이터를',
      '데이터에서',
    ]) {
      const hits = (await h.gql(search, { agentId: agent.id, query })).data.queryAgent.hits;
      expect(
        hits.map((hit: any) => hit.title),
        query,
      ).toEqual(['한국어 문서']);
    }
    expect(
      (await h.gql(search, { agentId: agent.id, query: '보고서를' })).data.queryAgent.totalResults,
    ).toBe(0);
  });

  it('answers bad input with BAD_USER_INPUT and an unknown agent with NOT_FOUND', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['ai']);
    for (const query of ['', '   ', 'the and of', '!!!']) {
      expect(errorCodes(await h.gql(search, { agentId: agent.id, query })), query).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    expect(
      errorCodes(await h.gql(search, { agentId: agent.id, query: 'model', topK: 101 })),
    ).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(search, { agentId: agent.id, query: 'model', topK: 0 }))).toEqual(
      ['BAD_USER_INPUT'],
    );
    expect(errorCodes(await h.gql(search, { agentId: corpus.nodeIds.ai, query: 'model' }))).toEqual(
      ['NOT_FOUND'],
    );
  });
});

const stream = `subscription($agentId: ID!, $query: String!, $topK: Int) {
  agentQueryStream(agentId: $agentId, query: $query, topK: $topK) {
    __typename
    ... on QueryStarted { agentId query }
    ... on QueryHit { hit { index title score } }
    ... on QueryCompleted { totalResults totalResultsIsEstimate queryTimeMs }
    ... on QueryFailed { code message }
  } }`;

describe('agentQueryStream over graphql-sse', () => {
  for (const singleConnection of [false, true]) {
    it(`sends started, each hit in rank order, then completed (${singleConnection ? 'single connection' : 'distinct connections'})`, async () => {
      const corpus = await createCorpus(h);
      const agent = await createAgent(corpus, ['tech']);
      const app = await h.startApp();
      const client = sseClient({
        url: `${app.baseUrl}/graphql/stream`,
        key: h.adminKey,
        singleConnection,
      });
      h.onCleanup(() => client.dispose());
      const events = (
        await collect<any>(client, stream, { agentId: agent.id, query: 'language text', topK: 7 })
      ).map((e) => e.data!.agentQueryStream);
      const direct = (await h.gql(search, { agentId: agent.id, query: 'language text', topK: 7 }))
        .data.queryAgent.hits;
      expect(events[0]).toEqual({
        __typename: 'QueryStarted',
        agentId: agent.id,
        query: 'language text',
      });
      const hits = events.slice(1, -1);
      expect(hits.every((e) => e.__typename === 'QueryHit')).toBe(true);
      expect(hits.map((e) => e.hit.index)).toEqual(direct.map((d: any) => d.index));
      expect(hits.map((e) => e.hit.title)).toEqual(direct.map((d: any) => d.title));
      expect(events.at(-1)).toMatchObject({
        __typename: 'QueryCompleted',
        totalResults: await countMatching(agent.id, 'languag | text'),
      });
    });
  }

  it('reports an unknown agent and a bad query as one QueryFailed, then ends the stream', async () => {
    const corpus = await createCorpus(h);
    const agent = await createAgent(corpus, ['tech']);
    const app = await h.startApp();
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const missing = (await collect<any>(client, stream, { agentId: unknown, query: 'text' })).map(
      (e) => e.data!.agentQueryStream,
    );
    expect(missing).toEqual([
      { __typename: 'QueryFailed', code: 'NOT_FOUND', message: 'Agent not found' },
    ]);
    const stopwords = (
      await collect<any>(client, stream, { agentId: agent.id, query: 'the of and' })
    ).map((e) => e.data!.agentQueryStream);
    expect(stopwords).toEqual([
      { __typename: 'QueryFailed', code: 'BAD_USER_INPUT', message: expect.any(String) },
    ]);
  });

  it('is authorised like a query', async () => {
    const app = await h.startApp();
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: 'agk_wrong' });
    h.onCleanup(() => client.dispose());
    await expect(collect(client, stream, { agentId: 'x', query: 'y' })).rejects.toThrow(/401/);
  });
});

const agentUpdated =
  'subscription($id: ID!) { agentUpdated(id: $id) { id name scopeDescription } }';
const update =
  'mutation($id: ID!, $name: String!) { updateAgent(id: $id, input: { name: $name }) { id } }';

for (const kind of ['in-process', 'redis'] as PubSubKind[]) {
  describe.skipIf(kind === 'redis' && !redisAvailable)(`agentUpdated (${kind} pub/sub)`, () => {
    it('sends the agent now, then after each change made through another API process, and ends on delete', async () => {
      const corpus = await createCorpus(h);
      const agent = await createAgent(corpus, ['ai']);
      // With Redis the subscriber and the writer are two API servers; in-process they must share one.
      const subscriberApp = await h.startApp({ pubsub: kind });
      const writerApp = kind === 'redis' ? await h.startApp({ pubsub: 'redis' }) : subscriberApp;
      const client = sseClient({ url: `${subscriberApp.baseUrl}/graphql/stream`, key: h.adminKey });
      h.onCleanup(() => client.dispose());
      const names: string[] = [];
      let resolveFirst!: () => void;
      const first = new Promise<void>((resolve) => (resolveFirst = resolve));
      let resolveSecondRename!: () => void;
      const secondRename = new Promise<void>((resolve) => (resolveSecondRename = resolve));
      const { done } = listen<any>(client, agentUpdated, { id: agent.id }, (value) => {
        names.push(value.data!.agentUpdated.name);
        resolveFirst();
        if (value.data!.agentUpdated.name === 'Renamed twice') resolveSecondRename();
      });
      // The server subscribes to pub/sub before it sends the first state.
      await first;
      const write = (query: string, variables: Record<string, unknown>) =>
        fetch(`${writerApp.baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminKey}` },
          body: JSON.stringify({ query, variables }),
        }).then((r) => r.json());
      await write(update, { id: agent.id, name: 'Renamed once' });
      await write(update, { id: agent.id, name: 'Renamed twice' });
      // A state feed reads the row when a notification arrives: deleted first, the last rename
      // would never be read (seen under a loaded suite). The deletion waits for it.
      await secondRename;
      await write('mutation($id: ID!) { deleteAgent(id: $id) }', { id: agent.id });
      await done;
      // State, not a diff: each event is the agent as it is when the notification is read,
      // so a quick second change can show up twice; the sequence never goes back.
      expect(names[0]).toBe(agent.name);
      expect(names.at(-1)).toBe('Renamed twice');
      const order = [agent.name, 'Renamed once', 'Renamed twice'];
      expect(names.map((name) => order.indexOf(name))).toEqual(
        [...names.map((name) => order.indexOf(name))].sort(),
      );
    });

    it('ends without an error when the agent is gone by the time a change is read', async () => {
      const corpus = await createCorpus(h);
      const agent = await createAgent(corpus, ['ai']);
      const app = await h.startApp({ pubsub: kind });
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
      h.onCleanup(() => client.dispose());
      const results: any[] = [];
      let resolveFirst!: () => void;
      const first = new Promise<void>((resolve) => (resolveFirst = resolve));
      const { done } = listen<any>(client, agentUpdated, { id: agent.id }, (value) => {
        results.push(value);
        resolveFirst();
      });
      await first;
      // Deleted, but the last notification to arrive is a change (the deletion's own is not sent).
      const agentId = parseGlobalId('Agent', agent.id)!;
      await db().agent.delete({ where: { id: agentId } });
      await app.pubsub.publish('agentUpdated', agentId, { agentId, deleted: false });
      await done;
      expect(
        results.map((r) => r.data?.agentUpdated?.name ?? r.errors?.[0]?.extensions?.code),
      ).toEqual([agent.name]);
    });

    it('answers an unknown agent with NOT_FOUND', async () => {
      const app = await h.startApp({ pubsub: kind });
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
      h.onCleanup(() => client.dispose());
      const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
      const results = await collect(client, agentUpdated, { id: unknown });
      expect(results.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['NOT_FOUND']);
    });
  });
}

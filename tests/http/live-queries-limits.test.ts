// Live queries under the API's limits (docs/clients.md "Live queries"): a live query takes one
// token as it starts (its runs again take none) and holds one of its key's open subscriptions;
// trusted documents apply to it; the response cache never answers one, so after a change a
// live query and a JSON client's `@live` both show the change.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LiveAgentsQuery } from '../client/operations.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { follow, liveClient } from '../utils/live-queries.js';
import { createAgent, read, RENAME } from '../utils/response-cache.js';
import { mint } from '../utils/teams.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

const LIVE_AGENTS = `query LimitedAgents @live { agents(first: 20) { edges { node { id name } } } }`;
const PLAIN_AGENTS = `query PlainAgents { agents(first: 20) { edges { node { id name } } } }`;
const names = (result: any): string[] =>
  result?.data?.agents.edges.map((edge: { node: { name: string } }) => edge.node.name) ?? [];

async function remaining(app: TestApp, key: string): Promise<number> {
  const response = await fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ viewer { user } }' }),
  });
  await response.arrayBuffer();
  return Number(response.headers.get('x-ratelimit-remaining'));
}

async function openLiveQueries(app: TestApp): Promise<number> {
  const metric = await app.app.metricsRegistry.getSingleMetric('graphql_live_queries_open')?.get();
  return metric?.values.reduce((sum, value) => sum + value.value, 0) ?? 0;
}

describe('live queries under the limits', () => {
  it('takes one token as it starts, none per run again, and holds one of the key’s open subscriptions', async () => {
    const app = await h.startApp({
      rateLimits: {
        // A token a minute: none comes back while the test runs.
        key: { perMinute: 1, burst: 20 },
        maxOpenSubscriptionsPerKey: 1,
        keyPrefix: `${h.pubsubPrefix}${randomBytes(4).toString('hex')}:`,
      },
    });
    const { key } = await mint(h, 'live-limited', ['READ']);
    const agentId = await createAgent(h, h.adminKey, 'Limited');
    const before = await remaining(app, key);
    const followed = follow(liveClient(h, app, 'sse', key), LIVE_AGENTS);
    await followed.latest((r) => names(r).includes('Limited'), 'the first result');
    for (const name of ['Limited 2', 'Limited 3'])
      expect((await h.gql(RENAME, { id: agentId, name })).errors).toBeUndefined();
    await followed.latest((r) => names(r).includes('Limited 3'), 'the renames');
    // This read's token and the live query's: the runs again took none.
    expect(await remaining(app, key)).toBe(before - 2);

    // A second one of the same key waits for the first to end (the cap counts both kinds).
    const refused = follow(liveClient(h, app, 'ws', key), LIVE_AGENTS);
    const error = await refused.ended.then(
      () => refused.results[0]?.errors,
      (thrown: unknown) => thrown,
    );
    expect(error).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
    followed.stop();
    await waitFor(async () => (await openLiveQueries(app)) === 0, 'the first live query ended');
    const again = follow(liveClient(h, app, 'ws', key), LIVE_AGENTS);
    await again.latest((r) => names(r).includes('Limited 3'), 'a live query once the first ended');
    again.stop();
  });

  it('runs a registered live query by its hash under TRUSTED_DOCUMENTS_ONLY, and refuses another', async () => {
    const hash = (LiveAgentsQuery as unknown as { __meta__: { hash: string } }).__meta__.hash;
    const manifest = JSON.parse(
      readFileSync(new URL('../generated/persisted-documents.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    const registered = await h.gql(
      `mutation($documents: [TrustedDocumentInput!]!) { registerTrustedDocuments(documents: $documents) { registered alreadyRegistered } }`,
      { documents: [{ hash, document: manifest[hash] }] },
    );
    expect(registered.errors).toBeUndefined();
    const app = await h.startApp({ trustedDocumentsOnly: true });
    const { key } = await mint(h, 'live-trusted', ['WRITE']);
    const agentId = await createAgent(h, h.adminKey, 'Trusted');
    // graphql-sse's client sends the payload as given: the hash in extensions (Apollo's way).
    const client = liveClient(h, app, 'sse', key) as unknown as {
      subscribe(payload: unknown, sink: unknown): () => void;
    };
    const results: any[] = [];
    const unsubscribe = client.subscribe(
      {
        query: '',
        variables: { first: 5 },
        extensions: { persistedQuery: { version: 1, sha256Hash: hash.replace(/^sha256:/, '') } },
      },
      { next: (value: unknown) => results.push(value), error: () => {}, complete: () => {} },
    );
    await waitFor(async () => names(results.at(-1)).includes('Trusted'), 'the first result');
    expect((await h.gql(RENAME, { id: agentId, name: 'Trusted again' })).errors).toBeUndefined();
    await waitFor(async () => names(results.at(-1)).includes('Trusted again'), 'the rename');
    unsubscribe();

    const adHoc = follow(liveClient(h, app, 'ws', key), LIVE_AGENTS);
    const refusal = await adHoc.ended.then(
      () => adHoc.results[0]?.errors,
      (thrown: unknown) => thrown,
    );
    expect(refusal).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'TRUSTED_DOCUMENT_REQUIRED' }),
      }),
    ]);
  });

  it.skipIf(!redisAvailable)(
    'is never answered from the response cache: after a change, live and JSON clients see it',
    async () => {
      const app = await h.startApp({ responseCache: {} });
      const { key } = await mint(h, 'live-cached', ['WRITE']);
      const agentId = await createAgent(h, key, 'Cached');
      const url = `${app.baseUrl}/graphql`;
      expect((await read(fetch, key, PLAIN_AGENTS, {}, url)).xCache).toBe('MISS');
      expect((await read(fetch, key, PLAIN_AGENTS, {}, url)).xCache).toBe('HIT');
      // A JSON client's @live: executed, never looked up nor kept.
      const once = await read(fetch, key, LIVE_AGENTS, {}, url);
      expect(once.xCache).toBeNull();
      expect(once.extension).toBeUndefined();
      expect(names(once)).toContain('Cached');

      const followed = follow(liveClient(h, app, 'sse', key), LIVE_AGENTS);
      await followed.latest((r) => names(r).includes('Cached'), 'the first result');
      expect((await h.gql(RENAME, { id: agentId, name: 'Cached renamed' }, key)).errors).toBe(
        undefined,
      );
      await followed.latest((r) => names(r).includes('Cached renamed'), 'the rename');
      const after = await read(fetch, key, LIVE_AGENTS, {}, url);
      expect(names(after)).toContain('Cached renamed');
      expect(names(after)).not.toContain('Cached');
      const plain = await read(fetch, key, PLAIN_AGENTS, {}, url);
      expect(plain.xCache).toBe('MISS');
      expect(names(plain)).toContain('Cached renamed');
      followed.stop();
    },
  );
});

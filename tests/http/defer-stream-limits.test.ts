// An operation with @defer or @stream meets what every operation meets: the response cache
// neither serves nor keeps it (and a deferred mutation still drops what it changed), the rate
// limits take the same cost on every transport, trusted documents run it when registered and
// refuse it otherwise, and the depth and cost limits count its deferred fields as the same
// fields without the fragment.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerTrustedDocuments } from '../../src/services/trusted-documents/register.js';
import { AgentWithDeferredCoverageQuery } from '../client/operations.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import {
  DEFERRED_COVERAGE,
  expectDeferredCoverage,
  multipartParts,
  searchAgent,
  type Payload,
} from '../utils/incremental.js';
import { AGENT_NAME, createAgent, read } from '../utils/response-cache.js';
import { collect, sseClient } from '../utils/sse.js';
import { mint } from '../utils/teams.js';

const h = useHarness();
const APOLLO_DEFER =
  'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9';
const JSON_ONLY = 'application/graphql-response+json';

async function post(
  app: TestApp,
  body: Record<string, unknown>,
  options: { key?: string; accept?: string } = {},
) {
  const response = await fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.key ?? h.adminKey}`,
      'content-type': 'application/json',
      accept: options.accept ?? APOLLO_DEFER,
    },
    body: JSON.stringify(body),
  });
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    payloads: type.startsWith('multipart/') ? multipartParts(type, text) : undefined,
    json: type.startsWith('multipart/') ? undefined : (JSON.parse(text) as any),
  };
}

const codes = (body: { errors?: Array<{ extensions?: { code?: string } }> }) =>
  body.errors?.map((error) => error.extensions?.code);

describe.skipIf(!redisAvailable)('@defer and the response cache', () => {
  const DEFERRED_NAME = `query($id: ID!) { agent(id: $id) { id ... @defer { name } } }`;

  it('neither serves nor keeps a deferred query; a deferred mutation drops what it changed', async () => {
    const app = await h.startApp({ pubsub: 'redis', responseCache: {} });
    const id = await createAgent(h, h.adminKey, 'alpha');
    await read(app.fetch, h.adminKey, AGENT_NAME, { id });
    expect((await read(app.fetch, h.adminKey, AGENT_NAME, { id })).xCache).toBe('HIT');
    for (let i = 0; i < 2; i++) {
      const merged = await read(app.fetch, h.adminKey, DEFERRED_NAME, { id });
      expect(merged).toMatchObject({ xCache: null, extension: undefined });
      expect(merged.data).toEqual({ agent: { id, name: 'alpha' } });
      const streamed = await post(app, { query: DEFERRED_NAME, variables: { id } });
      expect(streamed.headers.get('x-cache')).toBeNull();
      expect(streamed.payloads).toEqual([
        { data: { agent: { id } }, hasNext: true },
        { incremental: [{ data: { name: 'alpha' }, path: ['agent'] }], hasNext: false },
      ]);
    }
    const rename = `mutation($id: ID!) { updateAgent(id: $id, input: { name: "beta" }) { id ... @defer { name } } }`;
    const renamed = await post(app, { query: rename, variables: { id } });
    expect(renamed.payloads).toEqual([
      { data: { updateAgent: { id } }, hasNext: true },
      { incremental: [{ data: { name: 'beta' }, path: ['updateAgent'] }], hasNext: false },
    ]);
    // Its answer ended once the cached name was dropped: the next read runs.
    const after = await read(app.fetch, h.adminKey, AGENT_NAME, { id });
    expect(after).toMatchObject({ xCache: 'MISS', data: { agent: { id, name: 'beta' } } });
    expect((await read(app.fetch, h.adminKey, DEFERRED_NAME, { id })).data.agent.name).toBe('beta');
  });
});

describe.skipIf(!redisAvailable)('@defer and the rate limits', () => {
  const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
  // viewer (1) and queryAgent (3): 4 either way.
  const PLAIN = `query($id: ID!) { viewer { user } queryAgent(agentId: $id, query: "x") { totalResults } }`;
  const DEFERRED = `query($id: ID!) { viewer { user } ... @defer { queryAgent(agentId: $id, query: "x") { totalResults } } }`;

  it('costs what the operation without the directive costs, on every transport', async () => {
    const app = await h.startApp({
      rateLimits: {
        keyPrefix: `${h.pubsubPrefix}${randomBytes(4).toString('hex')}:`,
        key: { perMinute: 1, burst: 20 },
        team: { perMinute: 1, burst: 1_000 },
      },
    });
    const { key } = await mint(h, `limited-${randomBytes(3).toString('hex')}`, ['READ']);
    const variables = { id: unknown };
    const remaining = (answer: { headers: Headers }) => answer.headers.get('x-ratelimit-remaining');
    expect(
      remaining(await post(app, { query: PLAIN, variables }, { key, accept: JSON_ONLY })),
    ).toBe('16');
    const multipart = await post(app, { query: DEFERRED, variables }, { key });
    expect(multipart.payloads![0]).toEqual({
      data: { viewer: { user: expect.any(String) } },
      hasNext: true,
    });
    expect(remaining(multipart)).toBe('12');
    const merged = await post(app, { query: DEFERRED, variables }, { key, accept: JSON_ONLY });
    expect(codes(merged.json)).toEqual(['NOT_FOUND']);
    expect(remaining(merged)).toBe('8');
    const sse = sseClient({ url: `${app.baseUrl}/graphql`, key });
    h.onCleanup(() => sse.dispose());
    const overSse = (await collect(sse, DEFERRED, variables)) as Payload[];
    expect(overSse.at(-1)!.hasNext).toBe(false);
    expect(remaining(await post(app, { query: DEFERRED, variables }, { key }))).toBe('0');
    const refused = await post(app, { query: DEFERRED, variables }, { key });
    expect(refused.status).toBe(429);
    expect(codes(refused.json)).toEqual(['RATE_LIMITED']);
    expect(refused.headers.get('retry-after')).not.toBeNull();
  });
});

describe('@defer and trusted documents', () => {
  it('runs a registered deferred document by its id, and refuses an unregistered one', async () => {
    const app = await h.startApp({ trustedDocumentsOnly: true });
    const manifest = JSON.parse(
      readFileSync(new URL('../generated/persisted-documents.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    await registerTrustedDocuments(
      Object.entries(manifest).map(([hash, document]) => ({ hash, document })),
      { manifest: true },
    );
    const agentId = await searchAgent(h);
    const { key } = await mint(h, `trusted-${randomBytes(3).toString('hex')}`, ['READ']);
    const hash = (AgentWithDeferredCoverageQuery as unknown as { __meta__: { hash: string } })
      .__meta__.hash;
    const byId = await post(app, { documentId: hash, variables: { id: agentId } }, { key });
    expect(byId.status).toBe(200);
    expectDeferredCoverage(byId.payloads!, agentId);
    // The same text, with one more space: not registered.
    const unregistered = DEFERRED_COVERAGE.replace('{', '{ ');
    for (const accept of [APOLLO_DEFER, JSON_ONLY]) {
      const refused = await post(
        app,
        { query: unregistered, variables: { id: agentId } },
        { key, accept },
      );
      expect(refused.status).toBe(400);
      expect(codes(refused.json)).toEqual(['TRUSTED_DOCUMENT_REQUIRED']);
    }
    const sse = sseClient({ url: `${app.baseUrl}/graphql`, key });
    h.onCleanup(() => sse.dispose());
    // graphql-sse's client gets the refusal as its one result (the stream accepted, 200).
    const overSse = await collect(sse, unregistered, { id: agentId });
    expect(overSse.map((result) => codes(result as Parameters<typeof codes>[0]))).toEqual([
      ['TRUSTED_DOCUMENT_REQUIRED'],
    ]);
  });
});

describe('@defer and the operation limits', () => {
  const nested = (depth: number): string =>
    depth === 0 ? 'id' : `id parent { ${nested(depth - 1)} }`;
  const typenames = '__typename '.repeat(200);
  const wide = (depth: number): string =>
    depth === 0 ? typenames : `${typenames} parent { ${wide(depth - 1)} }`;
  /** In a fragment with `directive` ('' a plain inline fragment), or, null, in none. */
  const inFragment = (directive: string | null, selection: string) =>
    `{ taxonomy(version: "any") { nodes { id ${directive === null ? selection : `... ${directive} { ${selection} }`} } } }`;
  const limitErrors = (answer: { json: any }) =>
    answer.json.errors?.map((e: any) => [e.extensions.code, e.message]);

  it('count deferred fields in the depth and the cost as the same fields without the fragment', async () => {
    const app = await h.startApp();
    // taxonomy, nodes, then nested(9): 12 levels deep, the limit; nested(10) is 13. A fragment,
    // deferred or not, is no level of its own.
    for (const directive of ['@defer', '@defer(label: "d")', '', null]) {
      const within = await post(app, { query: inFragment(directive, nested(9)) });
      expect(within.status, `${directive}`).toBe(200);
      expect(within.json.errors).toBeUndefined();
      for (const accept of [APOLLO_DEFER, JSON_ONLY]) {
        const deep = await post(app, { query: inFragment(directive, nested(10)) }, { accept });
        expect(deep.status).toBe(400);
        expect(limitErrors(deep)).toEqual([
          ['BAD_USER_INPUT', 'Query depth limit of 12 exceeded, found 13.'],
        ]);
        const costly = await post(app, { query: inFragment(directive, wide(9)) }, { accept });
        expect(costly.status).toBe(400);
        expect(limitErrors(costly)).toEqual([
          ['BAD_USER_INPUT', expect.stringContaining('Query Cost limit of 50000 exceeded')],
        ]);
      }
    }
  });
});

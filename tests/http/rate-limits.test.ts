// Rate limits over HTTP, on real Redis: the IETF RateLimit headers and X-RateLimit-* on every
// limited answer, a refusal as 429 with Retry-After and RATE_LIMITED (before anything runs),
// a key's bucket and its team's, the client address's bucket for requests without a key, the
// operator's exemption, operation costs, RATE_LIMIT_PER_MINUTE=0, and a bucket shared by two
// API apps on one Redis. (Redis going away, and subscriptions: rate-limits-streams.test.ts.)
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { db } from '../../src/platform/db.js';
import type { RateLimitOptions } from '../../src/http/rate-limit/limits.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { scrape, valueOf } from '../utils/prometheus.js';
import { createTeam, mint } from '../utils/teams.js';

const h = useHarness();
const VIEWER = '{ viewer { user } }';

beforeAll(async () => {
  await h.startApp(); // h.gql's app: no limits, for the setup
});

/** An app with these limits and buckets of its own (a fresh Redis prefix). */
async function limitedApp(limits: Partial<RateLimitOptions>, prefix?: string): Promise<TestApp> {
  return h.startApp({
    rateLimits: {
      keyPrefix: prefix ?? `${h.pubsubPrefix}${randomBytes(4).toString('hex')}:`,
      ...limits,
    },
  });
}

async function post(
  app: TestApp,
  query: string,
  options: { key?: string | null; accept?: string; variables?: Record<string, unknown> } = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: options.accept ?? 'application/graphql-response+json',
  };
  const key = options.key === undefined ? h.adminKey : options.key;
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as any,
  };
}

/** A fresh team with keys in it (each key's user is the team's OWNER or a new member). */
async function teamKeys(slug: string, count: number): Promise<string[]> {
  const owner = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, owner.key, slug);
  const keys: string[] = [];
  for (let i = 0; i < count; i++)
    keys.push((await mint(h, `${slug}-owner`, ['ADMIN'], teamId, owner.key)).key);
  return keys;
}

const KEY_5 = { key: { perMinute: 6, burst: 5 }, team: { perMinute: 60, burst: 1_000 } };

describe('rate limits: answers', () => {
  it('sends RateLimit, RateLimit-Policy and X-RateLimit-* on a limited answer', async () => {
    const app = await limitedApp(KEY_5);
    const [key] = await teamKeys('rl-headers', 1);
    const first = await post(app, VIEWER, { key });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"key";q=5;w=50, "team";q=1000;w=1000');
    expect(first.headers.get('ratelimit')).toMatch(/^"key";r=4;t=\d+, "team";r=999;t=\d+$/);
    expect(first.headers.get('x-ratelimit-limit')).toBe('5');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    expect(first.headers.get('retry-after')).toBeNull();
    const second = await post(app, VIEWER, { key });
    expect(second.headers.get('x-ratelimit-remaining')).toBe('3');
  });

  it('refuses past the burst with 429, Retry-After and RATE_LIMITED, in either JSON media type', async () => {
    const app = await limitedApp(KEY_5);
    const [key] = await teamKeys('rl-refusal', 1);
    for (let i = 0; i < 5; i++) expect((await post(app, VIEWER, { key })).status).toBe(200);
    for (const accept of ['application/graphql-response+json', 'application/json']) {
      const refused = await post(app, VIEWER, { key, accept });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain(accept);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(refused.body.data).toBeUndefined();
      expect(refused.body.errors).toHaveLength(1);
      const [error] = refused.body.errors;
      expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter });
      expect(error.message).toMatch(/API key/);
    }
  });

  // The response cache lives in Redis.
  it.skipIf(!redisAvailable)(
    'refuses a query whose answer the response cache holds: no cached data goes out (Redis)',
    async () => {
      const app = await h.startApp({
        responseCache: {},
        rateLimits: { keyPrefix: `${h.pubsubPrefix}cached:`, key: { perMinute: 1, burst: 2 } },
      });
      const [key] = await teamKeys('rl-cached', 1);
      const query = '{ templates(first: 1) { totalCount } }';
      const fill = await post(app, query, { key });
      const hit = await post(app, query, { key });
      expect([fill.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
      const refused = await post(app, query, { key });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-cache')).toBeNull();
      expect(refused.body).toEqual({
        errors: [
          expect.objectContaining({
            extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) },
          }),
        ],
      });
    },
  );

  it('refuses a mutation before it runs: nothing is written', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 3 } });
    const [key] = await teamKeys('rl-mutation', 1);
    await post(app, VIEWER, { key }); // 2 tokens left; a mutation costs 2, a second one is refused
    const create =
      'mutation($slug: String!) { createTeam(input: { name: "T", slug: $slug }) { id } }';
    const made = await post(app, create, { key, variables: { slug: 'rl-made' } });
    expect(made.status).toBe(200);
    const refused = await post(app, create, { key, variables: { slug: 'rl-never' } });
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(await db().team.count({ where: { slug: 'rl-made' } })).toBe(1);
    expect(await db().team.count({ where: { slug: 'rl-never' } })).toBe(0);
  });
});

describe('rate limits: whose bucket', () => {
  it("caps a key by its own bucket, and a team's keys together by the team's", async () => {
    const app = await limitedApp({
      key: { perMinute: 1, burst: 4 },
      team: { perMinute: 1, burst: 6 },
    });
    const [a, b] = await teamKeys('rl-team', 2);
    const [other] = await teamKeys('rl-other', 1);
    for (let i = 0; i < 4; i++) expect((await post(app, VIEWER, { key: a })).status).toBe(200);
    const byKey = await post(app, VIEWER, { key: a });
    expect(byKey.status).toBe(429);
    expect(byKey.body.errors[0].message).toMatch(/of this API key reached/);
    // b's own bucket is full, but the team has 2 of its 6 left.
    for (let i = 0; i < 2; i++) expect((await post(app, VIEWER, { key: b })).status).toBe(200);
    const byTeam = await post(app, VIEWER, { key: b });
    expect(byTeam.status).toBe(429);
    expect(byTeam.body.errors[0].message).toMatch(/API key's team/);
    expect(byTeam.headers.get('ratelimit')).toMatch(/^"key";r=2;t=\d+, "team";r=0;t=\d+$/);
    // Another team's key is untouched by both.
    expect((await post(app, VIEWER, { key: other })).status).toBe(200);
  });

  // Redis's refusals say nothing of the tokens left (redis.ts assumes none); memory's are exact.
  it.skipIf(!redisAvailable)(
    "says in RateLimit's t when each bucket is full again, without the refused request's cost (Redis)",
    async () => {
      // A token a minute: t is whole minutes of missing tokens (the next refill within the first).
      const app = await limitedApp({
        key: { perMinute: 1, burst: 30 },
        team: { perMinute: 1, burst: 12 },
      });
      const [a, b] = await teamKeys('rl-reset', 2);
      const refresh =
        'mutation { refreshCoverage(input: { agentId: "QWdlbnQ6eA==" }) { task { id } } }';
      const times = (header: string | null) =>
        Object.fromEntries(
          [...(header ?? '').matchAll(/"(\w+)";r=(\d+);t=(\d+)/g)].map(([, scope, r, t]) => [
            scope,
            { r: Number(r), t: Number(t) },
          ]),
        );
      /** t for `missing` tokens (draft-09: seconds until the bucket is full again). */
      const fullIn = (missing: number) => ({
        t: expect.toSatisfy((t: number) => t > (missing - 1) * 60 && t <= missing * 60),
      });
      for (let i = 0; i < 2; i++) expect((await post(app, refresh, { key: a })).status).toBe(200);
      // The team has 2 tokens left: b's refresh (5) is refused by it, b's own bucket untouched.
      const byTeam = await post(app, refresh, { key: b });
      expect(byTeam.status).toBe(429);
      expect(times(byTeam.headers.get('ratelimit'))).toEqual({
        key: { r: 30, t: 0 },
        team: { r: 0, ...fullIn(12) },
      });
      // a's bucket misses the 10 it spent, not the 5 this refusal asked for.
      const refused = await post(app, refresh, { key: a });
      expect(refused.status).toBe(429);
      expect(times(refused.headers.get('ratelimit'))).toEqual({
        key: { r: 20, ...fullIn(10) },
        team: { r: 0, ...fullIn(12) },
      });
      expect(refused.headers.get('x-ratelimit-reset')).toBe(
        String(times(refused.headers.get('ratelimit')).team.t),
      );
    },
  );

  it("counts requests without a valid key by the client's address", async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 3 } });
    const [key] = await teamKeys('rl-ip', 1);
    for (const presented of [null, 'not-a-key', null])
      expect((await post(app, VIEWER, { key: presented })).status).toBe(401);
    const refused = await post(app, VIEWER, { key: 'not-a-key-either' });
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(refused.body.errors[0].message).toMatch(/without a valid API key/);
    expect(refused.headers.get('ratelimit-policy')).toBe('"ip";q=3;w=180');
    // A valid key from the same address has its own bucket.
    expect((await post(app, VIEWER, { key })).status).toBe(200);
  });

  it('counts report downloads without a valid key (wrong keys, signed links) in the same bucket', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 3 } });
    const [key] = await teamKeys('rl-downloads', 1);
    const path = `/artifacts/${Buffer.from('Artifact:00000000-0000-0000-0000-000000000000').toString('base64')}/markdown`;
    const download = (headers: Record<string, string>, query = '') =>
      fetch(`${app.baseUrl}${path}${query}`, { headers });
    expect((await download({ 'x-api-key': 'guess-1' })).status).toBe(404);
    expect((await download({}, '?expires=1&keyId=k&signature=s')).status).toBe(403);
    expect((await post(app, VIEWER, { key: 'guess-2' })).status).toBe(401);
    const refused = await download({ 'x-api-key': 'guess-3' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect((await download({}, '?expires=1&keyId=k&signature=s')).status).toBe(429);
    // A member's key is not the address's: its download is answered (404: no such artifact).
    expect((await download({ 'x-api-key': key! })).status).toBe(404);
  });

  it('behind TRUSTED_PROXY_HOPS proxies, counts the address X-Forwarded-For gives; else ignores it', async () => {
    const send = (app: TestApp, forwardedFor: string) =>
      fetch(`${app.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ query: VIEWER }),
      }).then((response) => response.status);
    const proxied = await limitedApp({ key: { perMinute: 1, burst: 1 }, trustedProxyHops: 1 });
    expect(await send(proxied, '198.51.100.7, 203.0.113.1')).toBe(401);
    expect(await send(proxied, '198.51.100.8, 203.0.113.1')).toBe(429); // the proxy saw .1 both times
    expect(await send(proxied, '203.0.113.2')).toBe(401);
    const direct = await limitedApp({ key: { perMinute: 1, burst: 1 } });
    expect(await send(direct, '203.0.113.3')).toBe(401);
    expect(await send(direct, '203.0.113.4')).toBe(429); // both from this socket's address
  });

  it("exempts the operator's ADMIN_API_KEY", async () => {
    const app = await limitedApp({
      key: { perMinute: 1, burst: 2 },
      team: { perMinute: 1, burst: 2 },
    });
    for (let i = 0; i < 10; i++) {
      const answer = await post(app, VIEWER);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit')).toBeNull();
    }
  });
});

describe('rate limits: costs and settings', () => {
  it('charges an enqueueing or planning mutation 5, another mutation 2, a query 1, a search 3', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 20 } });
    const [key] = await teamKeys('rl-costs', 1);
    const remaining = async (query: string, variables?: Record<string, unknown>) =>
      Number((await post(app, query, { key, variables })).headers.get('x-ratelimit-remaining'));
    expect(await remaining(VIEWER)).toBe(19);
    // Runs (NOT_FOUND: no such agent) and costs what an enqueueing mutation costs.
    const refresh =
      'mutation { refreshCoverage(input: { agentId: "QWdlbnQ6eA==" }) { task { id } } }';
    expect(await remaining(refresh)).toBe(14);
    expect(await remaining('mutation { revokeApiKey(id: "QXBpS2V5Ong=") { id } }')).toBe(12);
    expect(await remaining('{ a: viewer { user } b: viewer { user } }')).toBe(10);
    // 10 left: two more enqueueing mutations pass, a third is refused before it runs.
    expect(await remaining(refresh)).toBe(5);
    expect(await remaining(refresh)).toBe(0);
    const refused = await post(app, refresh, { key });
    expect(refused.status).toBe(429);

    // The workflow mutations (each runs and is refused: no such workflow or agent): those that
    // run the planner cost what planTopic costs, those that enqueue steps what refreshCoverage
    // costs; cancelling and editing a plan are plain mutations.
    const workflows = await limitedApp({ key: { perMinute: 1, burst: 50 } });
    const [workflowKey] = await teamKeys('rl-costs-workflows', 1);
    const id = 'V29ya2Zsb3c6eA==';
    const input = `{ goal: "costs", agentIds: ["QWdlbnQ6eA=="] }`;
    let left = 50;
    for (const [mutation, cost] of [
      [`planWorkflow(input: ${input}) { id }`, 5],
      [`runWorkflow(input: ${input}) { id }`, 5],
      [`replanWorkflow(id: "${id}", planVersion: 1) { id }`, 5],
      [`startWorkflow(id: "${id}", planVersion: 1) { id }`, 5],
      [`retryWorkflow(id: "${id}", fromStepKey: "a") { id }`, 5],
      [`cancelWorkflow(id: "${id}") { id }`, 2],
      [`updateWorkflowPlan(id: "${id}", planVersion: 1, steps: []) { id }`, 2],
    ] as const) {
      const answer = await post(workflows, `mutation { ${mutation} }`, { key: workflowKey });
      expect(answer.body.errors?.[0].extensions.code, mutation).not.toBe('RATE_LIMITED');
      left -= cost;
      expect(Number(answer.headers.get('x-ratelimit-remaining')), mutation).toBe(left);
    }
  });

  it('charges a trusted document sent by its hash alone what its document costs', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 20 } });
    const [key] = await teamKeys('rl-trusted', 1);
    const document =
      'mutation RateLimitedRefresh { refreshCoverage(input: { agentId: "QWdlbnQ6eA==" }) { task { id } } }';
    const hash = createHash('sha256').update(document).digest('hex');
    const registered = await h.gql(
      'mutation($documents: [TrustedDocumentInput!]!) { registerTrustedDocuments(documents: $documents) { registered } }',
      { documents: [{ hash: `sha256:${hash}`, document }] },
    );
    expect(registered.errors).toBeUndefined();
    const byHash = await fetch(`${app.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ documentId: `sha256:${hash}` }),
    });
    expect(((await byHash.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
    expect(byHash.headers.get('x-ratelimit-remaining')).toBe('15');
  });

  it('RATE_LIMIT_PER_MINUTE=0 turns the limits off; the defaults are 60 a minute, bursts of 120', async () => {
    const defaults = loadConfig({}).rateLimits;
    expect(defaults.key).toEqual({ perMinute: 60, burst: 120 });
    expect(defaults.team).toEqual({ perMinute: 600, burst: 1_200 });
    const off = loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimits;
    expect(off).toMatchObject({ key: null, team: null });
    const app = await limitedApp(off);
    const [key] = await teamKeys('rl-off', 1);
    for (let i = 0; i < 130; i++) {
      const answer = await post(app, VIEWER, { key });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit')).toBeNull();
    }
  });

  it.skipIf(!redisAvailable)('shares a bucket between two API apps on one Redis', async () => {
    const prefix = `${h.pubsubPrefix}shared:`;
    const limits = { key: { perMinute: 1, burst: 5 } };
    const one = await limitedApp(limits, prefix);
    const two = await limitedApp(limits, prefix);
    const [key] = await teamKeys('rl-shared', 1);
    for (const app of [one, two, one, two, one])
      expect((await post(app, VIEWER, { key })).status).toBe(200);
    expect((await post(two, VIEWER, { key })).status).toBe(429);
    expect((await post(one, VIEWER, { key })).status).toBe(429);
  });

  it('counts refusals on /metrics by scope and operation type, never by key or team', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 1 } });
    const [key] = await teamKeys('rl-metrics', 1);
    await post(app, VIEWER, { key });
    await post(app, VIEWER, { key });
    await post(app, 'mutation { revokeApiKey(id: "QXBpS2V5Ong=") { id } }', { key });
    const samples = await scrape(`${app.baseUrl}/metrics`);
    const refusals = (labels: Record<string, string>) =>
      valueOf(samples, 'rate_limit_refusals_total', labels);
    expect(refusals({ scope: 'key', operation: 'query' })).toBe(1);
    expect(refusals({ scope: 'key', operation: 'mutation' })).toBe(1);
    const labelled = samples.filter((s) => s.name === 'rate_limit_refusals_total');
    for (const sample of labelled)
      expect(Object.keys(sample.labels).sort()).toEqual(['operation', 'scope']);
  });
});

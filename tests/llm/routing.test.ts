// The router against two real local LLM servers: fallback in the route's order,
// a failing deployment cooled down (Retry-After honoured), a rejected key, a 400 without
// fallback, LOWEST_COST's order, one row per attempt, and the routing snapshot over GraphQL
// and GET /api/metrics/routing.
import { beforeEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { markKeyRejected } from '../../src/llm/key-rejection.js';
import { scrape, sumOf } from '../utils/prometheus.js';
import { rowId, useLlm } from './fixture.js';

const t = useLlm();
const SNAPSHOT = `query($s: LlmService!) { routingSnapshot(service: $s) { service strategy implicit
  candidates { deployment { id name } rank score estimatedCostUsd latencyP50Ms excludedReason } } }`;

let primaryId: string;
let secondaryId: string;
let primaryKey: string;

beforeEach(async () => {
  await t.configure();
  t.primary.reset();
  t.secondary.reset();
  ({ primaryId, secondaryId, primaryKey } = await t.pricedPair());
});

const snapshot = async (key: string, service = 'WRITE') =>
  (await t.ok(SNAPSHOT, { s: service }, key)).routingSnapshot;

describe('routing', () => {
  it('falls back in order on a 503, cools the primary down, and sends the next call past it', async () => {
    t.primary.behave({ fail: { status: 503, message: 'overloaded' } });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(1);
    // The SDK's own retries are off: one request per attempt.
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(2);
    const calls = await t.meteredCalls(t.alice.scope.teamId!);
    expect(
      calls.slice(-3).map((c) => [c.deployment?.name.split('-')[0], c.outcome, c.attempt]),
    ).toEqual([
      ['primary', 'SERVER_ERROR', 1],
      ['secondary', 'OK', 2],
      ['secondary', 'OK', 1],
    ]);
    expect(calls.at(-3)!.httpStatus).toBe(503);
    // The 503 processed nothing: nothing billed (the served attempt is).
    expect(calls.at(-3)).toMatchObject({
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      usageEstimated: false,
    });
    expect(calls.at(-2)!.inputTokens).toBeGreaterThan(0);
    const candidates = (await snapshot(t.alice.key)).candidates;
    expect(candidates.map((c: any) => [c.deployment.id, c.rank, c.excludedReason])).toEqual([
      [secondaryId, 1, null],
      [primaryId, 2, 'COOLDOWN'],
    ]);
  });

  it("observes each call's own time in the router on /metrics, without the provider's", async () => {
    const metrics = async () => {
      const samples = await scrape(`${t.app.baseUrl}/metrics`);
      const ok = { service: 'report', outcome: 'ok' };
      return {
        calls: sumOf(samples, 'llm_router_overhead_seconds_count', ok),
        own: sumOf(samples, 'llm_router_overhead_seconds_sum', ok),
        provider: sumOf(samples, 'llm_request_duration_seconds_sum', ok),
        failed: sumOf(samples, 'llm_router_overhead_seconds_count', { outcome: 'error' }),
      };
    };
    const before = await metrics();
    // 300 ms at the provider before its headers: the attempt's time, not the router's.
    t.primary.behave({ headersDelayMs: 300 });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    const after = await metrics();
    expect(after.calls - before.calls).toBe(1);
    expect(after.provider - before.provider).toBeGreaterThanOrEqual(0.3);
    expect(after.own - before.own).toBeGreaterThan(0);
    expect(after.own - before.own).toBeLessThan(0.3);
    // A call no deployment answered (a 400 fails at once) is observed as an error.
    t.primary.behave({ headersDelayMs: 0, fail: { status: 400, message: 'bad' } });
    await expect(t.call(t.alice.scope)).rejects.toThrow();
    expect((await metrics()).failed - after.failed).toBe(1);
  });

  it("honours Retry-After (at most 60 s) and goes on when the route's attempts are used up", async () => {
    t.primary.behave({ fail: { status: 429, message: 'slow down', retryAfter: '7' } });
    t.secondary.behave({ fail: { status: 500, message: 'broken' } });
    await expect(t.call(t.alice.scope)).rejects.toMatchObject({
      name: 'ProviderError',
      status: 500,
    });
    const cooldowns = t.h.llm.cooldowns;
    const primaryLeft = cooldowns.until(rowId(primaryId))! - Date.now();
    expect(primaryLeft).toBeGreaterThan(0);
    expect(primaryLeft).toBeLessThanOrEqual(7_000);
    expect(cooldowns.until(rowId(secondaryId))! - Date.now()).toBeLessThanOrEqual(30_000);
    cooldowns.cool(rowId(primaryId), 3_600_000);
    expect(cooldowns.until(rowId(primaryId))! - Date.now()).toBeLessThanOrEqual(60_000);
    // Both cooling down: nothing is tried.
    await expect(t.call(t.alice.scope)).rejects.toThrow(/no deployment of the WRITE route/);
    expect(t.primary.requests.length + t.secondary.requests.length).toBe(2);
  });

  it('a 400 fails at once, without fallback or cooldown', async () => {
    t.primary.behave({ fail: { status: 400, message: 'bad request' } });
    await expect(t.call(t.alice.scope)).rejects.toMatchObject({ status: 400, retryable: false });
    expect(t.secondary.requests).toHaveLength(0);
    expect(t.h.llm.cooldowns.until(rowId(primaryId))).toBeUndefined();
  });

  it('a key rejected in a call is not sent again by a later candidate of that call', async () => {
    // A twin of the primary on the same secret, ranked between it and the secondary.
    const twin = await t.deployment(t.alice.key, {
      name: `twin-${Math.random().toString(36).slice(2, 8)}`,
      baseUrl: t.secondary.openaiBaseUrl,
      providerKeyId: primaryKey,
    });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [primaryId, twin, secondaryId] });
    t.primary.behave({ fail: { status: 401, message: 'invalid key' } });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION');
    expect(t.primary.requests).toHaveLength(1);
    // Only the secondary's own request reached its server: none on the rejected secret.
    expect(t.secondary.requests.map((r) => r.headers.authorization)).toEqual([
      expect.stringMatching(/^Bearer sk-secondary-/),
    ]);
  });

  it('401 marks the key rejected: skipped until rotated, audited', async () => {
    t.primary.behave({ fail: { status: 401, message: 'invalid key' } });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION');
    expect(t.primary.requests[0]!.headers.authorization).toMatch(/^Bearer sk-primary-/);
    const keys = (await t.ok('{ providerKeys { id rejectedAt } }', {}, t.alice.key)).providerKeys;
    expect(keys.find((k: any) => k.id === primaryKey).rejectedAt).not.toBeNull();
    expect((await snapshot(t.alice.key)).candidates.at(-1).excludedReason).toBe('KEY_REJECTED');
    await t.call(t.alice.scope);
    expect(t.primary.requests).toHaveLength(1);
    await t.h.llm.metering.flush();
    const audit = await db().providerKeyAudit.findMany({
      where: { providerKeyId: rowId(primaryKey) },
    });
    // The DECRYPT row comes with its call's metering, written in a batch after it.
    expect(audit.map((a) => a.action).sort()).toEqual(['CREATE', 'DECRYPT', 'REJECT']);
    t.primary.behave({ fail: undefined });
    await t.ok(
      'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-primary-rotated-0123456789") { rejectedAt } }',
      { id: primaryKey },
      t.alice.key,
    );
    await t.call(t.alice.scope);
    expect(t.primary.requests.at(-1)!.headers.authorization).toBe(
      'Bearer sk-primary-rotated-0123456789',
    );
  });

  it('LOWEST_COST ranks by price × tokens, unpriced last; the snapshot says the same over HTTP', async () => {
    const unpriced = await t.deployment(t.alice.key, {
      name: `unpriced-${Math.random()}`,
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(t.alice.key, {
      service: 'PLAN',
      strategy: 'LOWEST_COST',
      deploymentIds: [unpriced, primaryId, secondaryId],
    });
    const planned = await snapshot(t.alice.key, 'PLAN');
    expect(planned.strategy).toBe('LOWEST_COST');
    expect(planned.candidates.map((c: any) => c.deployment.id)).toEqual([
      secondaryId,
      primaryId,
      unpriced,
    ]);
    // 600 input and 800 output tokens (a typical plan) at 1 and 2 USD per million.
    expect(planned.candidates[0].estimatedCostUsd).toBeCloseTo((600 * 1 + 800 * 2) / 1e6, 12);
    expect(planned.candidates[2]).toMatchObject({ estimatedCostUsd: null, score: null });
    await t.call(t.alice.scope, 'PLAN');
    expect(t.secondary.requests).toHaveLength(1);
    const http = await fetch(`${t.app.baseUrl}/api/metrics/routing?service=plan`, {
      headers: { authorization: `Bearer ${t.alice.key}` },
    });
    expect(http.status).toBe(200);
    const body = await http.json();
    expect(body.candidates.map((c: any) => [c.deployment.id, c.rank, c.excludedReason])).toEqual(
      planned.candidates.map((c: any) => [c.deployment.id, c.rank, c.excludedReason]),
    );
    expect(body.candidates[0].latencyP50Ms).toBeGreaterThanOrEqual(0);
    const anonymous = await fetch(`${t.app.baseUrl}/api/metrics/routing?service=plan`);
    expect(anonymous.status).toBe(401);
    const reader = await t.h.gql(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }',
      { input: { user: 'alice', name: 'reader', scopes: ['READ'] } },
      t.alice.key,
    );
    const readOnly = await fetch(`${t.app.baseUrl}/api/metrics/routing?service=plan`, {
      headers: { 'x-api-key': reader.data.createApiKey.key },
    });
    expect(readOnly.status).toBe(403);
  });

  it('another team sees none of it: its route names only its own deployments', async () => {
    const refused = await t.h.gql(
      'mutation($input: SetLlmRouteInput!) { setLlmRoute(input: $input) { id } }',
      { input: { service: 'WRITE', strategy: 'PRIORITY', deploymentIds: [primaryId] } },
      t.bob.key,
    );
    expect(refused.errors?.[0]).toMatchObject({
      extensions: {
        code: 'BAD_USER_INPUT',
        argument: 'input.deploymentIds',
        invalidIds: [primaryId],
      },
    });
    expect(refused.errors?.[0]?.message).toContain('deploymentIds');
    const garbage = await t.h.gql(
      'mutation($input: SetLlmRouteInput!) { setLlmRoute(input: $input) { id } }',
      { input: { service: 'WRITE', strategy: 'PRIORITY', deploymentIds: ['garbage'] } },
      t.bob.key,
    );
    expect(garbage.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.deploymentIds',
    });
    const theirs = await t.ok(
      '{ llmDeployments { id } providerKeys { id } llmCalls { edges { node { id } } } }',
      {},
      t.bob.key,
    );
    expect(JSON.stringify(theirs)).not.toContain(primaryId);
    expect(theirs.providerKeys).toEqual([]);
    expect(theirs.llmCalls.edges).toEqual([]);
    const rotate = await t.h.gql(
      'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-x-0123456789") { id } }',
      { id: primaryKey },
      t.bob.key,
    );
    expect(rotate.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a key is opened only for a call that is made: the first call after a budget refusal has its DECRYPT row', async () => {
    await t.ok(
      'mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }',
      { input: { scope: 'TEAM', targetId: t.alice.teamId, limitUsd: 100, period: 'TOTAL' } },
      t.alice.key,
    );
    const teamId = t.alice.scope.teamId!;
    try {
      // Other calls' reservations fill the budget (rows only: the catalog stays as it is).
      await db().llmBudget.updateMany({ where: { teamId }, data: { reservedUsd: 100 } });
      await expect(t.call(t.alice.scope)).rejects.toMatchObject({
        details: { reason: 'BUDGET_EXCEEDED' },
      });
      expect(t.primary.requests).toHaveLength(0);
      await db().llmBudget.updateMany({ where: { teamId }, data: { reservedUsd: 0 } });
      expect(await t.call(t.alice.scope)).toContain('STUB-SECTION');
      await t.h.llm.metering.flush();
      const decrypts = await db().providerKeyAudit.findMany({
        where: { providerKeyId: rowId(primaryKey), action: 'DECRYPT' },
      });
      expect(decrypts).toHaveLength(1);
      const served = await db().llmCall.findUniqueOrThrow({
        where: { id: decrypts[0]!.llmCallId! },
      });
      expect(served).toMatchObject({ deploymentId: rowId(primaryId), outcome: 'OK' });
    } finally {
      await db().llmBudget.deleteMany({ where: { teamId } });
      t.h.llm.catalog.forget();
    }
  });

  it("a 401 on a key's old secret after a rotation leaves the rotated key usable", async () => {
    const before = await db().providerKey.findUniqueOrThrow({ where: { id: rowId(primaryKey) } });
    await t.ok(
      'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-primary-new-0123456789") { id } }',
      { id: primaryKey },
      t.alice.key,
    );
    // The call that was in flight on the old secret answers 401 now.
    await markKeyRejected(before, 401, t.h.llm.pubsub);
    const after = await db().providerKey.findUniqueOrThrow({ where: { id: rowId(primaryKey) } });
    expect(after.rejectedAt).toBeNull();
    await markKeyRejected(after, 401, t.h.llm.pubsub);
    expect(
      (await db().providerKey.findUniqueOrThrow({ where: { id: rowId(primaryKey) } })).rejectedAt,
    ).not.toBeNull();
  });
});

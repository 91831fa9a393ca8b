// The router and the meter against providers that fail in quieter ways (found by a
// black-box probe): a primary that hangs is left for the next deployment and cooled down (a
// plan within its budget, a section past the attempt timeout); a stream cut right after its
// 200 is metered for the prompt it took; an estimate never exceeds the max_tokens asked for;
// a key this keyring cannot open is KEY_UNREADABLE; a budget counts its window’s calls; a
// plan’s calls are metered against its topic; a key the provider echoes never reaches the caller;
// a LOCAL deployment's calls are metered; a deleted deployment is named in the snapshot; a
// plan whose client goes away stops its attempt (ABORTED) and stores nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { generateKeyringText, parseKeyring, type Keyring } from '../../src/platform/vault.js';
import { makePlan } from '../../src/reports/planner/index.js';
import { createAgent } from '../utils/response-cache.js';
import { waitFor } from '../utils/wait.js';
import { rowId, useLlm } from './fixture.js';

const t = useLlm();
const SNAPSHOT = `query($s: LlmService!) { routingSnapshot(service: $s) {
  candidates { deployment { id } excludedReason } } }`;

let pair: Awaited<ReturnType<typeof t.pricedPair>>;

beforeEach(async () => {
  await t.configure({
    llm: { attemptTimeoutMs: 400 },
    planRateLimitPerMinute: 10_000,
  });
  t.primary.reset();
  t.secondary.reset();
  pair = await t.pricedPair();
});

/** The primary's key row made unreadable: the secondary's sealed secret, bound to its own id. */
async function breakPrimaryKey() {
  const source = await db().providerKey.findUniqueOrThrow({
    where: { id: rowId(pair.secondaryKey) },
  });
  await db().providerKey.update({
    where: { id: rowId(pair.primaryKey) },
    data: { secretBox: source.secretBox, wrappedKey: source.wrappedKey },
  });
}

const reasons = async (service = 'WRITE') =>
  Object.fromEntries(
    (await t.ok(SNAPSHOT, { s: service }, t.alice.key)).routingSnapshot.candidates.map((c: any) => [
      c.deployment.id,
      c.excludedReason,
    ]),
  );

describe('a provider that hangs', () => {
  it('is left for the next deployment after the attempt timeout, metered TIMEOUT and cooled down', async () => {
    t.primary.behave({ headersDelayMs: 10_000 });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    const calls = await t.meteredCalls(t.alice.scope.teamId!);
    // No answer, no status; the secondary's 200.
    expect(calls.slice(-2).map((c) => [c.deploymentId, c.outcome, c.httpStatus])).toEqual([
      [rowId(pair.primaryId), 'TIMEOUT', null],
      [rowId(pair.secondaryId), 'OK', 200],
    ]);
    expect((await reasons())[pair.primaryId]).toBe('COOLDOWN');
    // The next call goes straight to the secondary.
    await t.call(t.alice.scope);
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(2);
  });

  it('is metered TIMEOUT with the 200 it answered when it goes silent midway', async () => {
    t.primary.behave({ chunkSize: 5, chunkDelayMs: 10_000 });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    const calls = await t.meteredCalls(t.alice.scope.teamId!);
    expect(calls.slice(-2).map((c) => [c.deploymentId, c.outcome, c.httpStatus])).toEqual([
      [rowId(pair.primaryId), 'TIMEOUT', 200],
      [rowId(pair.secondaryId), 'OK', 200],
    ]);
  });

  it('leaves a plan time for the next deployment within its budget (half the budget each)', async () => {
    await t.route(t.alice.key, {
      service: 'PLAN',
      deploymentIds: [pair.primaryId, pair.secondaryId],
    });
    t.primary.behave({ headersDelayMs: 10_000 });
    const outcome = await makePlan(
      { topic: 'Data retention', language: 'en', template: null, agent: null },
      {
        chat: t.h.llm.router.chat('PLAN'),
        budgetMs: 1_500,
        call: t.alice.scope,
      },
    );
    expect(outcome).toMatchObject({ planner: 'openai', fellBack: false });
    expect(t.secondary.requests).toHaveLength(1);
  });
});

describe('metering', () => {
  it('meters a stream cut right after its 200 for the prompt it took (CUT, estimated)', async () => {
    t.primary.behave({ cutAfterChunks: 0, usage: 'none' });
    await t.call(t.alice.scope);
    const cut = (await t.meteredCalls(t.alice.scope.teamId!)).at(-2)!;
    expect(cut).toMatchObject({
      deploymentId: rowId(pair.primaryId),
      outcome: 'CUT',
      httpStatus: 200,
    });
    expect(cut.inputTokens).toBeGreaterThan(0);
    expect(cut.usageEstimated).toBe(true);
    expect(cut.costUsd).toBeGreaterThan(0);
  });

  it('never estimates more output than the max_tokens asked for', async () => {
    t.primary.behave({ usage: 'none', reply: () => 'word '.repeat(2_000), chunkSize: 500 });
    await t.call(t.alice.scope, 'WRITE', { maxTokens: 50 });
    const row = (await t.meteredCalls(t.alice.scope.teamId!)).at(-1)!;
    expect(row).toMatchObject({ outcome: 'OK', usageEstimated: true, outputTokens: 50 });
  });
});

describe('a provider that echoes the key it was sent', () => {
  it('streams its answer with the key replaced, even split across deltas', async () => {
    t.primary.behave({
      chunkSize: 3,
      // The Authorization header whole, the key alone, and a tail that only starts like the key.
      reply: (r) => `A ${r.headers.authorization} B ${r.headers.authorization!.slice(7)} C sk-pri`,
    });
    const text = await t.call(t.alice.scope);
    const sent = t.primary.requests[0]!.headers.authorization!.slice(7);
    expect(sent).toMatch(/^sk-primary-/);
    expect(text).toBe('A Bearer [redacted] B [redacted] C sk-pri');
    expect(text.includes(sent.slice(0, 12))).toBe(false);
  });
});

describe('a LOCAL deployment a route names', () => {
  it('is metered as any call: at cost 0, its tokens estimated, after the attempts before it', async () => {
    const local = (
      await t.ok(
        'mutation($n: String!) { createLlmDeployment(input: { name: $n, kind: LOCAL }) { id } }',
        { n: `local-${Date.now()}` },
        t.alice.key,
      )
    ).createLlmDeployment.id;
    await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [pair.primaryId, local] });
    t.primary.behave({ fail: { status: 503, message: 'down' } });
    const context = {
      topic: 'Metered locally',
      language: 'en' as const,
      template: null,
      agent: null,
    };
    const settings = { chat: t.h.llm.planner, budgetMs: 2_000, call: t.alice.scope };
    expect(await makePlan(context, settings)).toMatchObject({ planner: 'local', fellBack: true });
    const calls = (await t.meteredCalls(t.alice.scope.teamId!)).slice(-2);
    expect(calls.map((c) => [c.deploymentId, c.service, c.outcome, c.attempt])).toEqual([
      [rowId(pair.primaryId), 'PLAN', 'SERVER_ERROR', 1],
      [rowId(local), 'PLAN', 'OK', 2],
    ]);
    expect(calls[1]).toMatchObject({ provider: 'local', costUsd: 0, usageEstimated: true });
    expect(calls[1]!.inputTokens).toBeGreaterThan(0);
    expect(calls[1]!.outputTokens).toBeGreaterThan(0);
  });

  it("meters a section the LOCAL deployment wrote, once it is written (the writer's call)", async () => {
    const local = (
      await t.ok(
        'mutation($n: String!) { createLlmDeployment(input: { name: $n, kind: LOCAL }) { id } }',
        { n: `local-w-${Date.now()}` },
        t.alice.key,
      )
    ).createLlmDeployment.id;
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [local] });
    const request = {
      topic: 'Metered locally',
      language: 'en' as const,
      plan: '# Metered locally\n',
      section: { title: 'Local', description: 'written here', order: 1 },
      total: 1,
      sources: [],
      call: t.alice.scope,
    };
    let text = '';
    for await (const piece of t.h.llm.writer.writeSection(request, new AbortController().signal))
      text += piece;
    const [call] = (await t.meteredCalls(t.alice.scope.teamId!)).slice(-1);
    expect(call).toMatchObject({ deploymentId: rowId(local), service: 'WRITE', outcome: 'OK' });
    expect(call!.outputTokens).toBe(Math.ceil(text.length / 4));
  });
});

describe('a deleted deployment a route still names', () => {
  it('is DELETED in the snapshot, by its id and name, and skipped', async () => {
    const name = `doomed-${Date.now()}`;
    const doomed = await t.deployment(t.alice.key, { name, baseUrl: t.primary.openaiBaseUrl });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [doomed, pair.secondaryId] });
    await t.ok(
      'mutation($id: ID!) { deleteLlmDeployment(id: $id) { id } }',
      { id: doomed },
      t.alice.key,
    );
    const { routingSnapshot } = await t.ok(
      'query { routingSnapshot(service: WRITE) { candidates { deployment { id name } excludedReason } } }',
      {},
      t.alice.key,
    );
    expect(routingSnapshot.candidates).toEqual([
      { deployment: { id: pair.secondaryId, name: expect.any(String) }, excludedReason: null },
      { deployment: { id: doomed, name }, excludedReason: 'DELETED' },
    ]);
    await t.call(t.alice.scope);
    expect(t.primary.requests).toHaveLength(0);
  });
});

describe('a key this keyring cannot open', () => {
  it('is KEY_UNREADABLE in the snapshot and skipped by the router', async () => {
    await breakPrimaryKey();
    await t.configure({
      llm: { attemptTimeoutMs: 400 },
      planRateLimitPerMinute: 10_000,
    });
    expect(await reasons()).toEqual({
      [pair.primaryId]: 'KEY_UNREADABLE',
      [pair.secondaryId]: null,
    });
    expect(await t.call(t.alice.scope)).toContain('STUB-SECTION-1-OF-1');
    expect(t.primary.requests).toHaveLength(0);
    // With only that one left, a report is refused up front, not queued to fail.
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [pair.primaryId] });
    const planned = await t.ok(
      'mutation { planTopic(input: { topic: "Unreadable" }) { topic { id } plan } }',
      {},
      t.alice.key,
    );
    const refused = await t.h.gql(
      'mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id } }',
      { input: { topicId: planned.planTopic.topic.id, plan: planned.planTopic.plan } },
      t.alice.key,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'NO_USABLE_DEPLOYMENT',
      service: 'WRITE',
      excluded: ['KEY_UNREADABLE'],
      deployments: [{ id: pair.primaryId, reason: 'KEY_UNREADABLE' }],
    });
  });
});

describe('rewrapProviderKeys with a key the keyring cannot open', () => {
  it('is CONFLICT KEYS_UNREADABLE naming the key, and rewraps none', async () => {
    await breakPrimaryKey();
    const text = (keyring: Keyring) =>
      keyring.keys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(',');
    const next = parseKeyring(`v9:${generateKeyringText().split(':')[1]},${text(t.h.keyring)}`);
    await t.configure({ llm: { keyring: next } });
    const versions = async () =>
      (await db().providerKey.findMany({ orderBy: { id: 'asc' } })).map((k) => k.masterKeyVersion);
    const before = await versions();
    const audits = await db().providerKeyAudit.count({ where: { action: 'REWRAP' } });
    const refused = await t.h.gql('mutation { rewrapProviderKeys }', {}, t.h.adminKey);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'KEYS_UNREADABLE',
    });
    expect(refused.errors![0]!.extensions!.keyIds).toContain(pair.primaryKey);
    expect(await versions()).toEqual(before);
    expect(await db().providerKeyAudit.count({ where: { action: 'REWRAP' } })).toBe(audits);
    await t.configure();
  });
});

describe('a budget set after calls were made', () => {
  it('counts the calls its window already holds, and its new window’s when the period changes', async () => {
    const person = await t.person(`budget-late-${Math.random().toString(36).slice(2, 6)}`);
    const key = (await t.addKey(person.key, 'sk-late-budget-0123456789')).id;
    const id = await t.deployment(person.key, {
      name: 'late',
      baseUrl: t.primary.openaiBaseUrl,
      providerKeyId: key,
      inputUsdPerMTok: 1_000,
      outputUsdPerMTok: 1_000,
    });
    await t.route(person.key, { service: 'WRITE', deploymentIds: [id] });
    await t.call(person.scope);
    await t.call(person.scope);
    const spent = (await t.meteredCalls(person.scope.teamId!)).reduce((s, c) => s + c.costUsd, 0);
    expect(spent).toBeGreaterThan(0);
    const set = async (period: string) =>
      (
        await t.ok(
          'mutation($input: SetBudgetInput!) { setBudget(input: $input) { spentUsd } }',
          { input: { scope: 'TEAM', targetId: person.teamId, limitUsd: 100, period } },
          person.key,
        )
      ).setBudget.spentUsd;
    expect(await set('DAY')).toBeCloseTo(spent, 6);
    expect(await set('TOTAL')).toBeCloseTo(spent, 6);
    expect(await set('DAY')).toBeCloseTo(spent, 6);
  });
});

describe('a plan’s calls', () => {
  it('are metered against the topic planTopic makes (llmCalls filter topicId)', async () => {
    await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [pair.secondaryId] });
    const planned = await t.ok(
      'mutation { planTopic(input: { topic: "Attributed plan" }) { planner topic { id } } }',
      {},
      t.alice.key,
    );
    expect(planned.planTopic.planner).toBe('openai');
    await t.h.llm.metering.flush();
    const calls = await t.ok(
      'query($id: ID!) { llmCalls(first: 5, filter: { topicId: $id }) { edges { node { service outcome } } } }',
      { id: planned.planTopic.topic.id },
      t.alice.key,
    );
    expect(calls.llmCalls.edges.map((e: any) => e.node)).toEqual([
      { service: 'PLAN', outcome: 'OK' },
    ]);
  });
});

describe('a plan whose client goes away', () => {
  it('stops its LLM attempt at once, metered ABORTED, and stores no plan', async () => {
    // Budgets far past the test's waits: only the client's going away can end these attempts.
    await t.configure({ llm: { attemptTimeoutMs: 60_000 }, planBudgetMs: 120_000 });
    await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [pair.primaryId] });
    t.primary.behave({ headersDelayMs: 120_000 });
    const before = (await t.meteredCalls(t.alice.scope.teamId!)).length;
    const agentId = await createAgent(t.h, t.alice.key, 'Abandoned planner agent');
    const plans = [
      'mutation { planTopic(input: { topic: "Abandoned plan" }) { topic { id } } }',
      `mutation { planWorkflow(input: { goal: "Abandoned workflow", planner: LLM,
         agentIds: ["${agentId}"] }) { id } }`,
    ];
    for (const [i, query] of plans.entries()) {
      const client = new AbortController();
      const answered = fetch(`${t.app.baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.alice.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
        signal: client.signal,
      }).then(
        () => 'answered',
        () => 'abandoned',
      );
      await waitFor(async () => t.primary.requests.length === i + 1, 'the planner’s request');
      client.abort();
      expect(await answered).toBe('abandoned');
      const calls = await waitFor(async () => {
        const metered = await t.meteredCalls(t.alice.scope.teamId!);
        return metered.length === before + i + 1 && metered;
      }, 'the abandoned attempt metered');
      expect(calls.at(-1)).toMatchObject({ service: 'PLAN', outcome: 'ABORTED', attempt: 1 });
    }
    expect(await db().topic.count({ where: { topic: 'Abandoned plan' } })).toBe(0);
    expect(await db().workflow.count({ where: { goal: 'Abandoned workflow' } })).toBe(0);
  });
});

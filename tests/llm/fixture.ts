// What every LLM platform test file starts from: the harness with an app, two LLM
// stub servers (the primary and the secondary provider), Alice (ADMIN of her own team) and
// Bob (another team), and helpers that go through GraphQL as a client would: keys into the
// vault, deployments, routes, budgets. `call` runs one routed call as the planner or the
// writer makes it, for a team and key.
import { afterEach, beforeAll, expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import type { LlmCallScope } from '../../src/reports/writers/types.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { startLlmStub, type LlmStub } from '../utils/llm-stub.js';
import { mint, type MintedKey } from '../utils/teams.js';

export const rowId = (globalId: string) =>
  Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

export interface Person extends MintedKey {
  teamId: string;
  scope: LlmCallScope;
}

export function useLlm() {
  const h = useHarness();
  afterEach(() => h.stopWorkers());
  const t = {} as {
    app: TestApp;
    primary: LlmStub;
    secondary: LlmStub;
    alice: Person;
    bob: Person;
  };

  async function person(name: string): Promise<Person> {
    const minted = await mint(h, name, ['ADMIN']);
    const viewer = await h.gql('{ viewer { team { id } } }', {}, minted.key);
    const teamId = viewer.data.viewer.team.id;
    return { ...minted, teamId, scope: { teamId: rowId(teamId), apiKeyId: rowId(minted.id) } };
  }

  /** The data of a request that must succeed. */
  async function ok(query: string, variables: Record<string, unknown>, key: string) {
    const response = await h.gql(query, variables, key);
    expect(response.errors, query.slice(0, 60)).toBeUndefined();
    return response.data;
  }

  const addKey = async (key: string, secret: string, kind = 'OPENAI_COMPATIBLE', extra = {}) =>
    (
      await ok(
        'mutation($input: AddProviderKeyInput!) { addProviderKey(input: $input) { id hint fingerprint } }',
        { input: { kind, name: `key ${secret.slice(-4)}`, secret, ...extra } },
        key,
      )
    ).addProviderKey as { id: string; hint: string; fingerprint: string };

  async function deployment(
    key: string,
    input: { name: string; baseUrl: string; providerKeyId?: string } & Record<string, unknown>,
  ): Promise<string> {
    const data = await ok(
      'mutation($input: CreateLlmDeploymentInput!) { createLlmDeployment(input: $input) { id } }',
      { input: { kind: 'OPENAI_COMPATIBLE', model: 'stub-model', ...input } },
      key,
    );
    return data.createLlmDeployment.id;
  }

  const route = (key: string, input: Record<string, unknown>) =>
    ok(
      'mutation($input: SetLlmRouteInput!) { setLlmRoute(input: $input) { id } }',
      { input: { strategy: 'PRIORITY', maxAttempts: 3, ...input } },
      key,
    );

  /** One routed call of `service` for `scope`: its text (or its error). */
  async function call(
    scope: LlmCallScope,
    service: 'PLAN' | 'WRITE' = 'WRITE',
    extra: { onRestart?(): void; maxTokens?: number; user?: string } = {},
  ): Promise<string> {
    let text = '';
    const chat = h.llm.router.chat(service);
    for await (const delta of chat.streamChat({
      system: 's',
      user: extra.user ?? 'Write section 1 of 1: Routed',
      maxTokens: extra.maxTokens ?? 100,
      signal: new AbortController().signal,
      call: scope,
      onRestart: () => {
        text = '';
        extra.onRestart?.();
      },
    }))
      text += delta;
    return text;
  }

  /** The metered attempts of a team, oldest first (after the writer flushed). */
  async function meteredCalls(teamRowId: string) {
    await h.llm.metering.flush();
    return db().llmCall.findMany({
      where: { teamId: teamRowId },
      orderBy: [{ createdAt: 'asc' }, { attempt: 'asc' }],
      include: { deployment: { select: { name: true } } },
    });
  }

  /** Fresh settings (a new router: no cooldowns, no latency window), local by default. */
  const configure = (extra: Record<string, unknown> = {}) =>
    h.configureLlm({
      planRateLimitPerMinute: 10_000,
      keyPrefix: `${h.pubsubPrefix}${Math.random().toString(36).slice(2, 8)}:`,
      metrics: t.app?.app.serviceMetrics.llm,
      pubsub: t.app?.pubsub,
      ...extra,
    });

  /**
   * Two priced deployments of Alice's team, on the primary and the secondary stub, each with
   * a key of its own, routed for WRITE in that order.
   */
  async function pricedPair() {
    const suffix = Math.random().toString(36).slice(2, 8);
    const priced = async (name: string, stub: LlmStub, inputUsd: number, outputUsd: number) => {
      const key = (await addKey(t.alice.key, `sk-${name}-${suffix}-0123456789`)).id;
      const id = await deployment(t.alice.key, {
        name: `${name}-${suffix}`,
        baseUrl: stub.openaiBaseUrl,
        providerKeyId: key,
        inputUsdPerMTok: inputUsd,
        outputUsdPerMTok: outputUsd,
      });
      return { id, key };
    };
    const primary = await priced('primary', t.primary, 3, 15);
    const secondary = await priced('secondary', t.secondary, 1, 2);
    await route(t.alice.key, { service: 'WRITE', deploymentIds: [primary.id, secondary.id] });
    return {
      primaryId: primary.id,
      secondaryId: secondary.id,
      primaryKey: primary.key,
      secondaryKey: secondary.key,
    };
  }

  beforeAll(async () => {
    t.app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
    t.primary = await startLlmStub();
    t.secondary = await startLlmStub();
    h.onCleanup(() => t.primary.close());
    h.onCleanup(() => t.secondary.close());
    t.alice = await person('alice');
    t.bob = await person('bob');
    await configure();
  });

  return Object.assign(t, {
    h,
    ok,
    addKey,
    deployment,
    route,
    call,
    meteredCalls,
    configure,
    person,
    pricedPair,
  });
}

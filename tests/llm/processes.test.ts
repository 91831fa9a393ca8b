// Across processes, the service as `npm start` runs it: a deployment's cooldown
// reaches every API process through Redis, and a provider key's secret appears nowhere but at
// the provider: not in a response, an event, /metrics, a log line, an error message or any
// row but its own ciphertext, even when the provider echoes it back.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import type { Keyring } from '../../src/platform/vault.js';
import { graphql } from '../utils/graphql.js';
import { redisAvailable } from '../utils/harness.js';
import { spawnServiceProcess, type Child } from '../utils/processes.js';
import { collect, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { useLlm } from './fixture.js';

const t = useLlm();
const keyringText = (keyring: Keyring) =>
  keyring.keys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(',');

interface Api {
  child: Child;
  url: string;
  output: () => string;
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
}

async function startApi(role: 'api' | 'all', extra: Record<string, string> = {}): Promise<Api> {
  const child = spawnServiceProcess(
    t.h,
    {
      ROLE: role,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_API_KEY: t.h.adminKey,
      REDIS_URL: t.h.redisUrl!,
      KEY_VAULT_MASTER_KEYS: keyringText(t.h.keyring),
      LOAD_DEMO_DATA: 'false',
      TASK_POLL_MS: '100',
      // A new process's first call loads its provider's client: under load that outlasts the
      // default budget's attempt timeout (1 s), and the deployment would cool down for it.
      LLM_PLAN_BUDGET_MS: '60000',
      ...extra,
    },
    /"port":(\d+)[^\n]*API listening/,
  );
  let output = '';
  child.process.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.process.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${/"port":(\d+)/.exec(await child.ready)![1]}`;
  return {
    child,
    url,
    output: () => output,
    gql: (query, variables = {}) =>
      graphql<any>(fetch, query, variables, { key: t.alice.key, url: `${url}/graphql` }),
  };
}

const PLAN = 'mutation { planTopic(input: { topic: "Two processes" }) { planner fellBack } }';
const SNAPSHOT =
  '{ routingSnapshot(service: PLAN) { candidates { deployment { id } excludedReason } } }';

describe.skipIf(!redisAvailable)('across processes', () => {
  it('a cooldown started in one API process holds in the other', async () => {
    t.primary.reset();
    t.secondary.reset();
    const primary = await t.deployment(t.alice.key, {
      name: 'shared-primary',
      baseUrl: t.primary.openaiBaseUrl,
    });
    const secondary = await t.deployment(t.alice.key, {
      name: 'shared-secondary',
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(t.alice.key, { service: 'PLAN', deploymentIds: [primary, secondary] });
    t.primary.behave({ fail: { status: 503, message: 'down for a minute' } });
    const [a, b] = await Promise.all([startApi('api'), startApi('api')]);
    // B has asked once already: its view of the route is loaded before A's failure.
    expect((await b.gql(SNAPSHOT)).data.routingSnapshot.candidates[0].excludedReason).toBeNull();
    expect((await a.gql(PLAN)).data.planTopic).toEqual({ planner: 'openai', fellBack: false });
    expect(t.primary.requests).toHaveLength(1);
    await waitFor(async () => {
      const { candidates } = (await b.gql(SNAPSHOT)).data.routingSnapshot;
      return (
        candidates.find((c: any) => c.deployment.id === primary)?.excludedReason === 'COOLDOWN'
      );
    }, "B learns of A's cooldown");
    expect((await b.gql(PLAN)).data.planTopic).toEqual({ planner: 'openai', fellBack: false });
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(2);
    // A process started after the failure (it missed the signal) skips the primary from its
    // first call: it reads the route's cooldowns before it ranks.
    const c = await startApi('api');
    expect((await c.gql(PLAN)).data.planTopic).toEqual({ planner: 'openai', fellBack: false });
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(3);
    await Promise.all([a.child.kill(), b.child.kill(), c.child.kill()]);
  });

  it('the secret appears nowhere, even when the provider echoes it', async () => {
    t.primary.reset();
    t.secondary.reset();
    const secret = `sk-nowhere-${crypto.randomUUID()}`;
    const api = await startApi('all', { LOG_LEVEL: 'debug' });
    const seen: string[] = [];
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await api.gql(query, variables);
      seen.push(JSON.stringify(response));
      return response;
    };
    const key = await gql(
      'mutation($s: String!) { addProviderKey(input: { kind: OPENAI_COMPATIBLE, name: "nowhere", secret: $s }) { id name hint fingerprint } }',
      { s: secret },
    );
    const keyId = key.data.addProviderKey.id;
    const echoing = await gql(
      'mutation($u: String!, $k: ID!) { createLlmDeployment(input: { name: "echoing", kind: OPENAI_COMPATIBLE, baseUrl: $u, model: "m", providerKeyId: $k }) { id } }',
      { u: t.primary.openaiBaseUrl, k: keyId },
    );
    const echo = echoing.data.createLlmDeployment.id;
    t.primary.behave({
      fail: { status: 401, message: 'Incorrect API key provided', echoAuthorization: true },
    });
    await gql(
      'mutation($d: ID!) { w: setLlmRoute(input: { service: WRITE, strategy: PRIORITY, deploymentIds: [$d], maxAttempts: 1 }) { id } p: setLlmRoute(input: { service: PLAN, strategy: PRIORITY, deploymentIds: [$d], fallbackToLocal: true }) { id } }',
      { d: echo },
    );
    const planned = await gql(
      'mutation { planTopic(input: { topic: "Nowhere" }) { plan planner fellBack topic { id } } }',
    );
    expect(planned.data.planTopic).toMatchObject({ planner: 'local', fellBack: true });
    const topicId = planned.data.planTopic.topic.id;
    // The key was rejected by the plan: rotate it to the same secret to try again on the report.
    await gql(
      'mutation($id: ID!, $s: String!) { rotateProviderKey(id: $id, secret: $s) { id hint } }',
      { id: keyId, s: secret },
    );
    const client = sseClient({ url: `${api.url}/graphql/stream`, key: t.alice.key });
    t.h.onCleanup(() => client.dispose());
    const feed = collect<any>(
      client,
      'subscription($id: ID!) { topicGeneration(topicId: $id) { event status currentStep errorMessage section { text } } }',
      { id: topicId },
    );
    await gql(
      'mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id } }',
      {
        input: { topicId, plan: planned.data.planTopic.plan },
      },
    );
    const events = await feed;
    seen.push(JSON.stringify(events));
    expect(events.at(-1)!.data!.topicGeneration.status).toBe('FAILED');
    await gql(
      '{ providerKeys { id name hint fingerprint rejectedAt } llmCalls { edges { node { id outcome httpStatus } } } topics { edges { node { errorMessage currentStep } } } }',
    );
    for (const path of [
      '/metrics',
      '/api/metrics/routing?service=write',
      '/api/metrics/routing?service=plan',
    ])
      seen.push(
        await (
          await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${t.alice.key}` } })
        ).text(),
      );
    await api.child.kill();
    // The provider did get it (else this test proves nothing), and echoed it.
    expect(t.primary.requests.map((r) => r.headers.authorization)).toContain(`Bearer ${secret}`);
    const rows = await db().$queryRaw<Array<{ text: string }>>`
      SELECT to_jsonb(x)::text AS text FROM (
        SELECT to_jsonb(t) AS x FROM topics t UNION ALL SELECT to_jsonb(k) FROM tasks k
        UNION ALL SELECT to_jsonb(e) FROM task_events e UNION ALL SELECT to_jsonb(c) FROM llm_calls c
        UNION ALL SELECT to_jsonb(a) FROM provider_key_audit a
        UNION ALL SELECT to_jsonb(p) - 'secretBox' - 'wrappedKey' FROM provider_keys p) rows`;
    const fragment = secret.slice(11, 30);
    for (const [where, text] of [
      ['responses, events, metrics', seen.join('\n')],
      ['logs', api.output()],
      ['rows', rows.map((r) => r.text).join('\n')],
    ]) {
      expect(text.length, where).toBeGreaterThan(0);
      expect(text.includes(secret), where).toBe(false);
      expect(text.includes(fragment), where).toBe(false);
    }
    expect(api.output()).toContain('Incorrect API key provided');
  });
});

// /metrics as an operator scrapes it (docs/operations.md, "Probes and metrics"): each family
// the dashboard and the alerts read moves when requests, tasks, webhooks, LLM calls,
// subscriptions and the database pool do, with the labels it is documented with, and no
// label value is an id, a name or a URL from the test's own data. API and worker share one
// process here (ROLE=all); metrics-processes.test.ts has them apart.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient as createWsClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { databasePoolStats, db } from '../../src/platform/db.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { createWorkerMetrics } from '../../src/workers/metrics.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { graphql } from '../utils/graphql.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { startLlmStub, stubProvider } from '../utils/llm-stub.js';
import { labelNamesOf, scrape, sumOf, valueOf, type Sample } from '../utils/prometheus.js';
import { listen, sseClient } from '../utils/sse.js';
import { mint } from '../utils/teams.js';
import { FAST_TASK_ENGINE, testTaskDefinitions } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

const USER = 'metrics-probe-user-quokka';
const AGENT_NAME = 'Metrics Probe Agent Zeta';
const TOPIC = 'Metrics probe topic about wombats';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const REFRESH = `mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) { task { id } } }`;
const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) { plan planner topic { id } } }`;
const GENERATE = `mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id } }`;
const TOPIC_STATE = `query($id: ID!) { topic(id: $id) { status task { id } artifact { id } } }`;
const AGENT_UPDATED = 'subscription($id: ID!) { agentUpdated(id: $id) { id } }';

async function receiver(statuses: number[]) {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(statuses[calls++] ?? 200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/metrics-probe`;
}

async function agentId(key?: string): Promise<string> {
  const corpus = await createCorpus(h, undefined, key);
  const created = await h.gql(
    CreateAgentMutation,
    {
      input: {
        name: AGENT_NAME,
        taxonomyVersion: corpus.version,
        taxonomyNodeIds: [corpus.nodeIds.ml],
      },
    },
    key,
  );
  expect(created.errors).toBeUndefined();
  return created.data!.createAgentFromTaxonomy.id;
}

/** The worker as main.ts runs it with ROLE=all: its counts on the API's registry. */
async function workerBeside(app: TestApp) {
  const { metricsRegistry, serviceMetrics } = app.app;
  const registry = serviceTaskRegistry(
    {
      llm: h.llm,
      topicSettings: h.topicSettings,
      webhooks: h.webhooks,
      metrics: serviceMetrics,
    },
    testTaskDefinitions,
  );
  const worker = await startServiceWorker({
    tasks: FAST_TASK_ENGINE,
    pubsub: app.pubsub,
    registry,
    metrics: createWorkerMetrics(metricsRegistry),
    queueMetrics: serviceMetrics.queue,
  });
  h.onCleanup(() => worker.stop(0));
}

/** Every label value in the scrape: none may be, or contain, what a caller chose or was given. */
function expectBoundedLabels(samples: Sample[], forbidden: string[]) {
  const values = new Set(samples.flatMap((s) => Object.values(s.labels)));
  expect(values.size).toBeGreaterThan(10);
  for (const value of values) {
    expect(value, `label value ${value}`).not.toMatch(UUID);
    expect(value, `label value ${value}`).not.toContain('://');
    expect(value, `label value ${value}`).not.toContain('/');
    for (const word of forbidden)
      expect(value.toLowerCase(), `label value ${value}`).not.toContain(word.toLowerCase());
  }
}

describe('/metrics', () => {
  it('counts HTTP requests by route name and status, with durations and body sizes', async () => {
    const app = await h.startApp();
    const id = randomUUID();
    expect((await fetch(`${app.baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/no/such/${id}?q=${id}`)).status).toBe(404);
    const download = await fetch(`${app.baseUrl}/artifacts/${id}/markdown`, {
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    expect(download.status).toBe(404);
    const graphql = await fetch(`${app.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminKey}` },
      body: JSON.stringify({ query: 'query MetricsProbeOperation { viewer { user } }' }),
    });
    const graphqlBody = await graphql.text();
    const samples = await scrape(`${app.baseUrl}/metrics`);

    expect(labelNamesOf(samples, 'http_requests_total')).toEqual(['route', 'status']);
    const requests = (route: string, status: string) =>
      valueOf(samples, 'http_requests_total', { route, status });
    expect(requests('health', '200')).toBe(1);
    expect(requests('other', '404')).toBe(1);
    expect(requests('artifacts', '404')).toBe(1);
    expect(requests('graphql', '200')).toBe(1);
    for (const route of ['health', 'other', 'artifacts', 'graphql'])
      expect(valueOf(samples, 'http_request_duration_seconds_count', { route })).toBe(1);
    expect(valueOf(samples, 'http_response_size_bytes_sum', { route: 'health' })).toBe(
      '{"status":"ok"}'.length,
    );
    expect(valueOf(samples, 'http_response_size_bytes_sum', { route: 'graphql' })).toBe(
      Buffer.byteLength(graphqlBody),
    );
    expectBoundedLabels(samples, [id, 'MetricsProbeOperation', 'no/such']);
  });

  it('shows the database pool in use and waiting', async () => {
    const app = await h.startApp();
    const registry = app.app.metricsRegistry;
    const gauge = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    const max = databasePoolStats()!.max;
    expect(await gauge('db_pool_max_connections')).toBe(max);
    // Every connection held by a transaction waiting on the test, and one more asked for.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = Array.from({ length: max + 1 }, () =>
      db().$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1`;
          await gate;
        },
        { maxWait: 60_000, timeout: 60_000 },
      ),
    );
    await waitFor(async () => (databasePoolStats()!.waiting >= 1 ? true : undefined), 'a waiter');
    expect(await gauge('db_pool_connections_in_use')).toBe(max);
    expect(await gauge('db_pool_waiting_requests')).toBeGreaterThanOrEqual(1);
    release();
    await Promise.all(held);
    await waitFor(
      async () => ((await gauge('db_pool_waiting_requests')) === 0 ? true : undefined),
      'no waiter',
    );
    const samples = await scrape(`${app.baseUrl}/metrics`);
    expect(valueOf(samples, 'db_pool_connections_idle')).toBeGreaterThan(0);
  });

  it('counts open subscriptions by transport (graphql-sse, graphql-ws, multipart)', async () => {
    const app = await h.startApp();
    const id = await agentId();
    const open = async () => {
      const samples = await scrape(`${app.baseUrl}/metrics`);
      return Object.fromEntries(
        ['sse', 'ws', 'multipart'].map((transport) => [
          transport,
          valueOf(samples, 'graphql_subscriptions_open', { transport }) ?? 0,
        ]),
      );
    };
    const sse = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    const sseSubscription = listen(sse, AGENT_UPDATED, { id }, () => {});
    const ws = createWsClient({
      url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${h.adminKey}` },
      retryAttempts: 0,
    });
    const wsStop = ws.subscribe(
      { query: AGENT_UPDATED, variables: { id } },
      {
        next: () => {},
        error: () => {},
        complete: () => {},
      },
    );
    const multipart = new AbortController();
    const response = await fetch(`${app.baseUrl}/graphql`, {
      method: 'POST',
      signal: multipart.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0',
        authorization: `Bearer ${h.adminKey}`,
      },
      body: JSON.stringify({ query: AGENT_UPDATED, variables: { id } }),
    });
    expect(response.status).toBe(200);
    const expected = { sse: 1, ws: 1, multipart: 1 };
    await waitFor(
      async () => JSON.stringify(await open()) === JSON.stringify(expected) || undefined,
      'three subscriptions open',
    );
    sseSubscription.unsubscribe();
    await sse.dispose();
    wsStop();
    await ws.dispose();
    multipart.abort();
    const none = { sse: 0, ws: 0, multipart: 0 };
    await waitFor(
      async () => JSON.stringify(await open()) === JSON.stringify(none) || undefined,
      'all ended',
    );
  });

  it('counts tasks enqueued, their queue wait, webhook deliveries and LLM calls; labels bounded', async () => {
    const app = await h.startApp();
    const stub = await startLlmStub();
    h.onCleanup(() => stub.close());
    const prices = { inputPerMillionTokens: 3, outputPerMillionTokens: 15 };
    await h.configureLlm({
      llm: { ...stubProvider(stub), prices: prices },
      planRateLimitPerMinute: 1_000,
      // On a loaded host the plan outlasted the 2 s default (the first call also imports the
      // provider's SDK) and fell back to the local planner: not what this test counts.
      planBudgetMs: 60_000,
      keyPrefix: h.pubsubPrefix,
      metrics: app.app.serviceMetrics.llm,
    });
    h.onCleanup(async () => {
      await h.configureLlm({ keyPrefix: h.pubsubPrefix });
    });
    await workerBeside(app);
    // Through this app (h.gql uses the file's first one): its /metrics counts them.
    const gql = (query: string, variables: Record<string, unknown>, key: string) =>
      graphql<any>(app.fetch, query, variables, { key });
    const { key } = await mint(h, USER, ['WRITE']);
    const agent = await agentId();
    const hooks = [await receiver([200]), await receiver([503, 200])];
    const taskIds: string[] = [];
    for (const webhookUrl of hooks) {
      const refreshed = await gql(REFRESH, { input: { agentId: agent, webhookUrl } }, key);
      expect(refreshed.errors).toBeUndefined();
      taskIds.push(refreshed.data.refreshCoverage.task.id);
    }
    const planned = await gql(PLAN, { input: { topic: TOPIC, agentId: agent } }, key);
    expect(planned.data.planTopic.planner).toBe('openai');
    const topicId = planned.data.planTopic.topic.id;
    const generated = await gql(
      GENERATE,
      { input: { topicId, plan: planned.data.planTopic.plan } },
      key,
    );
    expect(generated.errors).toBeUndefined();
    const topic = await waitFor(async () => {
      const state = (await gql(TOPIC_STATE, { id: topicId }, key)).data.topic;
      return state.status === 'COMPLETED' ? state : undefined;
    }, 'the report written');
    await waitFor(
      async () =>
        (await db().task.count({ where: { type: 'webhook_delivery', status: 'COMPLETED' } })) ===
          2 || undefined,
      'two webhooks delivered',
    );
    const download = await fetch(`${app.baseUrl}/artifacts/${topic.artifact.id}/markdown`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(download.status).toBe(200);
    const samples = await scrape(`${app.baseUrl}/metrics`);

    // The queue: what was enqueued here (the API's tasks and the worker's webhook deliveries).
    expect(labelNamesOf(samples, 'tasks_enqueued_total')).toEqual(['priority', 'type']);
    const enqueued = (type: string, priority: string) =>
      valueOf(samples, 'tasks_enqueued_total', { type, priority });
    expect(enqueued('coverage_refresh', 'medium')).toBe(2);
    expect(enqueued('report_generation', 'medium')).toBe(1);
    expect(enqueued('webhook_delivery', 'high')).toBe(
      await db().task.count({ where: { type: 'webhook_delivery' } }),
    );
    // One wait per start: as many as the tasks' attempts (a lease lost under load and the task
    // claimed again is one more of each).
    const claims = async (type: string) =>
      (await db().task.aggregate({ _sum: { attempts: true }, where: { type } }))._sum.attempts ?? 0;
    const waits = (type: string, priority: string) =>
      valueOf(samples, 'task_queue_wait_seconds_count', { type, priority });
    for (const [type, priority, least] of [
      ['coverage_refresh', 'medium', 2],
      ['report_generation', 'medium', 1],
      ['webhook_delivery', 'high', 3], // a 503, its retry, and the other hook
    ] as const) {
      expect(await claims(type)).toBeGreaterThanOrEqual(least);
      expect(waits(type, priority), type).toBe(await claims(type));
    }
    const pending = await db().task.count({ where: { status: 'PENDING', priority: 'LOW' } });
    expect(valueOf(samples, 'tasks_pending', { priority: 'low' })).toBe(pending);
    expect(valueOf(samples, 'tasks_pending', { priority: 'high' })).toBeDefined();
    expect(valueOf(samples, 'tasks_oldest_due_wait_seconds')).toBeGreaterThanOrEqual(0);

    // Webhooks, by outcome: as webhook_deliveries recorded them.
    const recorded = await db().webhookDelivery.findMany();
    const succeeded = recorded.filter((d) => d.succeeded).length;
    expect(succeeded).toBeGreaterThanOrEqual(2);
    expect(valueOf(samples, 'webhook_deliveries_total', { outcome: 'success' })).toBe(succeeded);
    expect(valueOf(samples, 'webhook_deliveries_total', { outcome: 'http_5xx' })).toBe(
      recorded.filter((d) => d.statusCode === 503).length,
    );
    expect(
      valueOf(samples, 'webhook_delivery_duration_seconds_count', { outcome: 'success' }),
    ).toBe(succeeded);

    // LLM calls: plans (API), sections (worker), as the stub received them; tokens as it
    // reported them.
    const labels = (service: string) => ({ provider: 'openai', model: 'stub-model', service });
    const reported = (plan: boolean) =>
      stub.requests.filter((r) => r.user.includes('Write section') !== plan);
    expect(reported(true)).toHaveLength(1);
    expect(reported(false).length).toBeGreaterThanOrEqual(3);
    for (const service of ['plan', 'report']) {
      const requests = reported(service === 'plan');
      expect(sumOf(samples, 'llm_requests_total', labels(service))).toBe(requests.length);
      expect(valueOf(samples, 'llm_requests_total', { ...labels(service), outcome: 'ok' })).toBe(
        requests.filter((r) => r.usage).length,
      );
      expect(sumOf(samples, 'llm_request_duration_seconds_count', labels(service))).toBe(
        requests.length,
      );
      const firstTokens = sumOf(samples, 'llm_time_to_first_token_seconds_count', labels(service));
      expect(firstTokens).toBeGreaterThanOrEqual(requests.filter((r) => r.usage).length);
      expect(firstTokens).toBeLessThanOrEqual(requests.length);
      const input = requests.reduce((sum, r) => sum + (r.usage?.input ?? 0), 0);
      const output = requests.reduce((sum, r) => sum + (r.usage?.output ?? 0), 0);
      expect(input).toBeGreaterThan(0);
      expect(sumOf(samples, 'llm_tokens_total', { ...labels(service), type: 'input' })).toBe(input);
      expect(sumOf(samples, 'llm_tokens_total', { ...labels(service), type: 'output' })).toBe(
        output,
      );
      const cost =
        (input * prices.inputPerMillionTokens + output * prices.outputPerMillionTokens) / 1e6;
      expect(sumOf(samples, 'llm_cost_usd_total', labels(service))).toBeCloseTo(cost, 9);
      // Every family by outcome too (the labels).
      for (const family of [
        'llm_request_duration_seconds_count',
        'llm_tokens_total',
        'llm_cost_usd_total',
      ])
        expect(
          sumOf(samples, family, { ...labels(service), outcome: 'ok' }),
          family,
        ).toBeGreaterThan(0);
    }
    expect(sumOf(samples, 'http_requests_total', { route: 'artifacts', status: '200' })).toBe(1);

    const ids = [agent, topicId, topic.artifact.id, topic.task.id, ...taskIds];
    const rows = (
      await db().task.findMany({ select: { id: true, ownerId: true, teamId: true } })
    ).flatMap((t) => [t.id, t.ownerId ?? '', t.teamId]);
    expectBoundedLabels(samples, [
      USER,
      AGENT_NAME,
      TOPIC,
      key,
      '127.0.0.1',
      'hooks',
      ...ids,
      ...rows.filter(Boolean),
    ]);
  });
});

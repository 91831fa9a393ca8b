// Rate limits of the live transports, with their real clients: a subscription is counted once,
// as it starts, over graphql-ws, graphql-sse (both modes) and multipart; a refused start is
// each protocol's error; a key's open subscriptions are capped over graphql-ws and graphql-sse
// together. The service's own process takes its settings from the environment and shares the
// buckets; with Redis gone, every process limits with its own buckets and still serves.
import { randomBytes } from 'node:crypto';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { NetworkError } from 'graphql-sse';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RateLimitOptions } from '../../src/http/rate-limit/limits.js';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import {
  redisServerAvailable,
  spawnServiceProcess,
  startPrivateRedis,
} from '../utils/processes.js';
import { sseClient } from '../utils/sse.js';
import { mint } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
const VIEWER = '{ viewer { user } }';
const PROGRESS = 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status } }';
const MULTIPART = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json;q=0.9';
let taskId: string;
const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

beforeAll(async () => {
  const first = await h.startApp(); // h.gql's app: no limits, for the setup
  const admin = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  // Nobody runs it: it stays PENDING, and a subscription to it stays open.
  const task = await enqueueTestTask(first.pubsub, testSleep, { ms: 1 }, { ownerId: admin.id });
  taskId = toGlobalId('Task', task.id);
});

const limitedApp = (limits: Partial<RateLimitOptions>, prefix?: string): Promise<TestApp> =>
  h.startApp({
    rateLimits: {
      keyPrefix: prefix ?? `${h.pubsubPrefix}${randomBytes(4).toString('hex')}:`,
      ...limits,
    },
  });

const freshKey = async (name: string) =>
  (await mint(h, `${name}-${randomBytes(3).toString('hex')}`, ['WRITE'])).key;

async function remaining(app: TestApp, key: string): Promise<number> {
  const response = await fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: VIEWER }),
  });
  await response.arrayBuffer();
  return Number(response.headers.get('x-ratelimit-remaining'));
}

function wsClient(app: TestApp, key: string): WsClient {
  const client = createWsClient({
    url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  h.onCleanup(() => client.dispose());
  return client;
}

/** Subscribes; resolves once the first event arrives, or with the error that refused it. */
function open(
  subscribe: (sink: {
    next(v: unknown): void;
    error(e: unknown): void;
    complete(): void;
  }) => () => void,
): Promise<{ error?: any }> {
  return new Promise((resolve) => {
    const stop = subscribe({
      next: () => resolve({}),
      error: (error) => resolve({ error }),
      complete: () => {},
    });
    stops.push(stop);
  });
}

const overWs = (client: WsClient) =>
  open((sink) => client.subscribe({ query: PROGRESS, variables: { id: taskId } }, sink));
const overSse = (client: ReturnType<typeof sseClient>) =>
  open((sink) => client.subscribe({ query: PROGRESS, variables: { id: taskId } }, sink));

async function overMultipart(app: TestApp, key: string, accept = MULTIPART) {
  const controller = new AbortController();
  stops.push(() => controller.abort());
  const response = await fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query: PROGRESS, variables: { id: taskId } }),
    signal: controller.signal,
  });
  return response;
}

describe('rate limits: subscriptions count as they start', () => {
  it('takes one token per subscription started over graphql-ws, graphql-sse (both modes) and multipart', async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 10 } });
    const key = await freshKey('rl-starts');
    expect(await remaining(app, key)).toBe(9);
    expect((await overWs(wsClient(app, key))).error).toBeUndefined();
    const distinct = sseClient({ url: `${app.baseUrl}/graphql/stream`, key });
    expect((await overSse(distinct)).error).toBeUndefined();
    const single = sseClient({ url: `${app.baseUrl}/graphql/stream`, key, singleConnection: true });
    h.onCleanup(() => single.dispose());
    expect((await overSse(single)).error).toBeUndefined();
    const multipart = await overMultipart(app, key);
    expect(multipart.status).toBe(200);
    expect(multipart.headers.get('x-ratelimit-remaining')).toBe('5');
    // Four starts and two queries; the open subscriptions take nothing more.
    expect(await remaining(app, key)).toBe(4);
  });

  it("refuses a start past the burst in each protocol's way", async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 1 } });
    const key = await freshKey('rl-refused-starts');
    expect(await remaining(app, key)).toBe(0);
    const ws = await overWs(wsClient(app, key));
    expect(ws.error[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(ws.error[0].extensions.retryAfter).toBeGreaterThanOrEqual(1);
    for (const singleConnection of [false, true]) {
      const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key, singleConnection });
      h.onCleanup(() => client.dispose());
      const { error } = await overSse(client);
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.response.status).toBe(429);
      expect(Number(error.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Refused before the stream: one JSON answer, in the JSON type the client accepts.
    const multipart = await overMultipart(app, key);
    expect(multipart.status).toBe(429);
    expect(multipart.headers.get('content-type')).toMatch(/^application\/json;/);
    const body = (await multipart.json()) as any;
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    const streamOnly = await overMultipart(app, key, 'multipart/mixed;subscriptionSpec="1.0"');
    expect(streamOnly.status).toBe(429);
    expect(streamOnly.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(((await streamOnly.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});

describe('rate limits: graphql-ws without a valid key', () => {
  it("closes a connection_init past its address's bucket with the time to wait", async () => {
    const app = await limitedApp({ key: { perMinute: 1, burst: 1 } });
    const closes: Array<{ code: number; reason: string }> = [];
    for (let i = 0; i < 2; i++) {
      const socket = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/graphql`, [
        'graphql-transport-ws',
      ]);
      h.onCleanup(() => socket.terminate());
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: 'not-a-key' } }));
      closes.push(await closed);
    }
    expect(closes[0]).toEqual({ code: 4403, reason: 'Forbidden' });
    expect(closes[1]!.code).toBe(4403);
    expect(closes[1]!.reason).toMatch(/^Rate limited: retry in \d+ s$/);
  });
});

describe('rate limits: open subscriptions per key', () => {
  it('caps what one key holds open over graphql-ws and graphql-sse together, and frees a slot when one ends', async () => {
    const app = await limitedApp({ maxOpenSubscriptionsPerKey: 2 });
    const key = await freshKey('rl-open');
    const ws = wsClient(app, key);
    expect((await overWs(ws)).error).toBeUndefined();
    const single = sseClient({ url: `${app.baseUrl}/graphql/stream`, key, singleConnection: true });
    h.onCleanup(() => single.dispose());
    expect((await overSse(single)).error).toBeUndefined();
    const third = await overWs(ws);
    expect(third.error[0].extensions).toEqual({ code: 'RATE_LIMITED', maxOpenSubscriptions: 2 });
    const distinct = sseClient({ url: `${app.baseUrl}/graphql/stream`, key });
    const overSseToo = await overSse(distinct);
    expect(overSseToo.error.response.status).toBe(429);
    // Another key is not touched by this one's cap.
    expect((await overWs(wsClient(app, await freshKey('rl-open-other')))).error).toBeUndefined();
    // The first subscription ends (the client completes it): its slot is free again.
    stops.shift()!();
    await waitFor(async () => !(await overSse(distinct)).error, 'a slot freed');
  });
});

describe.skipIf(!redisAvailable)('rate limits across processes (Redis)', () => {
  it('reads RATE_LIMIT_* in the service process (src/main.ts) and shares its buckets through Redis', async () => {
    const service = spawnServiceProcess(
      h,
      {
        ROLE: 'api',
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_KEY: h.adminKey,
        REDIS_URL: h.redisUrl!,
        LOAD_DEMO_DATA: 'false',
        RATE_LIMIT_PER_MINUTE: '1',
        RATE_LIMIT_BURST: '3',
      },
      /"port":(\d+)[^\n]*API listening/,
    );
    const port = /"port":(\d+)/.exec(await service.ready)![1];
    const other = { baseUrl: `http://127.0.0.1:${port}` } as TestApp;
    // This process's app on the same prefix (the service's is PUBSUB_PREFIX) and sizes (the
    // team's are the defaults): the same buckets.
    const here = await limitedApp(
      { key: { perMinute: 1, burst: 3 }, team: { perMinute: 600, burst: 1_200 } },
      h.pubsubPrefix,
    );
    const key = await freshKey('rl-processes');
    expect(await remaining(other, key)).toBe(2);
    expect(await remaining(here, key)).toBe(1);
    expect(await remaining(other, key)).toBe(0);
    for (const app of [here, other]) {
      const refused = await fetch(`${app.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: VIEWER }),
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('ratelimit-policy')).toBe('"key";q=3;w=180, "team";q=1200;w=120');
      await refused.arrayBuffer();
    }
  }, 60_000);
});

// A private redis-server, killed mid-test.
describe.skipIf(!redisServerAvailable)('rate limits without Redis', () => {
  it('falls back to per-process buckets when Redis dies: still serves, still limits', async () => {
    const redis = await startPrivateRedis(h);
    const limits = { key: { perMinute: 1, burst: 3 }, redis: redis.url };
    const one = await limitedApp(limits, `${h.pubsubPrefix}outage:`);
    const two = await limitedApp(limits, `${h.pubsubPrefix}outage:`);
    const key = await freshKey('rl-outage');
    expect(await remaining(one, key)).toBe(2);
    expect(await remaining(two, key)).toBe(1); // shared while Redis is up
    await redis.kill();
    // Each process now has a bucket of its own, full: it serves its burst, then refuses.
    for (const app of [one, two]) {
      for (const left of [2, 1, 0]) expect(await remaining(app, key)).toBe(left);
      const refused = await fetch(`${app.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: VIEWER }),
      });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
    }
  });
});

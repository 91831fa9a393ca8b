// PostgreSQL going away (a private cluster, stopped and started again): every transport refuses
// with SERVICE_UNAVAILABLE and a retry hint (HTTP 503 with Retry-After where there is a status),
// a key first seen during the outage is not taken for a bad one, /ready fails while it lasts,
// and the API and a worker come back by themselves: nothing acknowledged is lost.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type App } from '../../src/http/app.js';
import { createLlmGateway, type LlmGateway } from '../../src/llm/gateway.js';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { applyPendingMigrations } from '../../src/platform/migrations/index.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { closeTopicSettings, createTopicSettings } from '../../src/services/topics/settings.js';
import { startServiceWorker, taskFinishedStep } from '../../src/workers/index.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import type { RunningWorker } from '../../src/workers/worker.js';
import {
  privatePostgresAvailable,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../utils/private-postgres.js';
import { collect, sseClient } from '../utils/sse.js';
import {
  enqueueTestTask,
  FAST_TASK_ENGINE,
  testOutput,
  testSleep,
  testTaskDefinitions,
} from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const ADMIN = `outage-admin-${randomBytes(8).toString('hex')}`;
const PROGRESS = 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status } }';
const MULTIPART = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json;q=0.9';
const LIVE_AGENTS = 'query @live { agents(first: 1) { totalCount } }';

describe.skipIf(!privatePostgresAvailable)('PostgreSQL away', () => {
  let cluster: PrivatePostgres;
  let app: App;
  let server: Server;
  let baseUrl: string;
  let llm: LlmGateway;
  let worker: RunningWorker | undefined;
  let close: () => Promise<void> = async () => {};
  const pubsub = createInProcessPubSub(`outage:${randomBytes(4).toString('hex')}:`);
  const webhooks = {
    secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==',
    allowPrivateTargets: true,
    timeoutMs: 1_000,
    maxAttempts: 4,
    retryDelaysMs: [100, 200, 400],
    retentionDays: 30,
  };

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    const url = await cluster.createDatabase('outage');
    await applyPendingMigrations(url);
    connectDatabase(url, { poolSize: 4 });
    llm = await createLlmGateway({ pubsub });
    const topicSettings = await createTopicSettings();
    const registry = serviceTaskRegistry({ llm, topicSettings, webhooks }, testTaskDefinitions);
    app = createApp({
      adminApiKey: ADMIN,
      pubsub,
      llm,
      topicSettings,
      webhooks,
      taskFinished: taskFinishedStep(registry, pubsub),
    });
    server = createServer(app.requestListener);
    app.attachWebSockets(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    worker = await startServiceWorker({ tasks: FAST_TASK_ENGINE, pubsub, registry });
    close = async () => {
      await worker?.stop(0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      app.close();
      await llm.close();
      await closeTopicSettings(topicSettings);
      await pubsub.close();
    };
  }, 120_000);

  afterAll(async () => {
    await close();
    await disconnectDatabase();
    await cluster?.destroy();
  });

  const post = (query: string, key: string, variables?: Record<string, unknown>) =>
    fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query, variables }),
    });

  const mint = async (user: string) => {
    const response = await post(
      'mutation($u: String!) { createApiKey(input: { user: $u, name: "k", scopes: [WRITE] }) { key } }',
      ADMIN,
      { u: user },
    );
    return ((await response.json()) as any).data.createApiKey.key as string;
  };

  it('refuses on every transport with SERVICE_UNAVAILABLE and a retry hint, then recovers by itself', async () => {
    const cachedKey = await mint('outage-cached');
    const unseenKey = await mint('outage-unseen');
    const owner = await db().user.findUniqueOrThrow({ where: { name: 'outage-cached' } });
    expect((await post('{ viewer { user } }', cachedKey)).status).toBe(200);
    // A long task: its feed stays open while PostgreSQL is away.
    const task = await enqueueTestTask(pubsub, testSleep, { ms: 60_000 }, { ownerId: owner.id });
    const taskId = toGlobalId('Task', task.id);
    await worker!.stop(0);
    worker = undefined;

    await cluster.stop();
    // GraphQL over HTTP: 503, Retry-After, the code and retryAfter in the error.
    for (const key of [cachedKey, unseenKey]) {
      const response = await post('{ agents(first: 1) { totalCount } }', key);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await response.json()) as any;
      expect(body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(body.errors[0].extensions.retryAfter).toBeGreaterThan(0);
    }
    expect((await fetch(`${baseUrl}/ready`)).status).toBe(503);
    // graphql-sse (both modes) and multipart: refused before the stream opens, as GraphQL over
    // HTTP is: whether the key could not be looked up (unseen), or it could and the operation's
    // own start could not (cached, and the admin key, which needs no lookup).
    for (const key of [unseenKey, cachedKey, ADMIN]) {
      for (const singleConnection of [false, true]) {
        const client = sseClient({ url: `${baseUrl}/graphql/stream`, key, singleConnection });
        const outcome = await collect(client, PROGRESS, { id: taskId }).catch((error) => error);
        client.dispose();
        // graphql-sse's client keeps the refused response in its NetworkError.
        const response = (outcome as { response?: Response }).response;
        expect(response?.status, `${key} ${singleConnection}`).toBe(503);
        expect(response!.headers.get('retry-after')).not.toBeNull();
      }
      for (const accept of ['text/event-stream', MULTIPART]) {
        const response = await fetch(`${baseUrl}/graphql${accept === MULTIPART ? '' : '/stream'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: PROGRESS, variables: { id: taskId } }),
        });
        expect(response.status, `${key} ${accept}`).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        const body = (await response.json()) as any;
        expect(body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
        expect(body.errors[0].extensions.retryAfter).toBeGreaterThan(0);
      }
    }
    // A live query and a plain query over an event stream: refused alike (a live query whose
    // first result failed would otherwise wait for changes to data it never read).
    for (const query of [LIVE_AGENTS, '{ agents(first: 1) { totalCount } }']) {
      const response = await fetch(`${baseUrl}/graphql/stream`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${cachedKey}`,
        },
        body: JSON.stringify({ query }),
      });

      expect(response.status, query).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
    }
    // graphql-ws: the operation's error message (the connection's key was looked up before).
    const ws = createWsClient({
      url: `${baseUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${cachedKey}` },
      retryAttempts: 0,
    });
    const wsOutcome = await new Promise<{ sink: string; value: unknown }>((resolve) =>
      ws.subscribe(
        { query: PROGRESS, variables: { id: taskId } },
        {
          next: (value) => resolve({ sink: 'next', value }),
          error: (value) => resolve({ sink: 'error', value }),
          complete: () => resolve({ sink: 'complete', value: undefined }),
        },
      ),
    );
    await ws.dispose();
    expect(wsOutcome.sink).toBe('error');
    expect((wsOutcome.value as any)[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // A key that cannot be looked up now: the connection closes with 1013 (Try Again Later),
    // which graphql-ws' client retries (on its defaults, it is back once PostgreSQL is).
    const unseenWs = createWsClient({
      url: `${baseUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${unseenKey}` },
      retryAttempts: 0,
    });
    const closed = await new Promise<{ code?: number; reason?: string }>((resolve) =>
      unseenWs.subscribe(
        { query: '{ viewer { user } }' },
        { next: () => {}, error: (value) => resolve(value as never), complete: () => resolve({}) },
      ),
    );
    await unseenWs.dispose();
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('SERVICE_UNAVAILABLE');

    await cluster.start();
    // Back by itself: the first request that follows passes (within the pool's reconnect).
    const answered = await waitFor(async () => {
      const response = await post('{ viewer { user } }', unseenKey);
      return response.status === 200 ? response : undefined;
    }, 'an answer after PostgreSQL is back');
    expect(((await answered.json()) as any).data.viewer.user).toBe('outage-unseen');
    expect((await fetch(`${baseUrl}/ready`)).status).toBe(200);
  }, 60_000);

  it('has its worker stop claiming while it is away and carry on by itself: nothing acknowledged is lost', async () => {
    const registry = serviceTaskRegistry(
      { llm, topicSettings: await createTopicSettings(), webhooks },
      testTaskDefinitions,
    );
    worker = await startServiceWorker({ tasks: FAST_TASK_ENGINE, pubsub, registry });
    const owner = await db().user.upsert({
      where: { name: 'outage-worker' },
      create: { name: 'outage-worker' },
      update: {},
    });
    const before = [];
    for (let i = 0; i < 20; i++)
      before.push(await enqueueTestTask(pubsub, testSleep, { ms: 200 }, { ownerId: owner.id }));
    // Running when it goes, reading the database: one attempt allowed, and it is not spent.
    const reading = await enqueueTestTask(
      pubsub,
      testOutput,
      { output: 'database-away-once' },
      { ownerId: owner.id },
    );
    await waitFor(async () => {
      const row = await db().task.findUniqueOrThrow({ where: { id: reading.id } });
      return row.startedAt ? row : undefined;
    }, 'the reading task started');
    await cluster.stop();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await cluster.start();
    const after = [];
    for (let i = 0; i < 5; i++)
      after.push(await enqueueTestTask(pubsub, testSleep, { ms: 10 }, { ownerId: owner.id }));
    const ids = [...before, reading, ...after].map((task) => task.id);
    const done = await waitFor(async () => {
      const rows = await db().task.findMany({ where: { id: { in: ids } } });
      return rows.every((row) => ['COMPLETED', 'DEAD'].includes(row.status)) ? rows : undefined;
    }, 'every task ended');
    expect(done.filter((row) => row.status === 'COMPLETED')).toHaveLength(26);
    // Interrupted by the outage (or its lease lost meanwhile, whichever was written first):
    // run again, its one attempt unspent.
    const again = done.find((row) => row.id === reading.id)!;
    expect(again).toMatchObject({ result: { ranAgain: true }, leaseLosses: 1, attempts: 2 });
    expect(['INTERRUPTED', 'LEASE_LOST']).toContain(
      (again.attemptLog as Array<{ outcome: string }>)[0]!.outcome,
    );
    // Each log is gap- and duplicate-free, and ends COMPLETED.
    for (const id of ids) {
      const events = await db().taskEvent.findMany({
        where: { taskId: id },
        orderBy: { sequence: 'asc' },
      });
      expect(events.map((event) => event.sequence)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)!.status).toBe('COMPLETED');
    }
  }, 60_000);
});

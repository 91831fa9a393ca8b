// Per test file: its own database (cloned from the migrated template), its own Redis
// channel prefix, API servers on ephemeral ports, and a leak guard that fails the file
// when a server, client or connection it opened is still open at the end.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { connectDatabase, db, disconnectDatabase } from '../../src/db.js';
import { createInProcessPubSub, createRedisPubSub, type PubSub } from '../../src/pubsub.js';
import { resetAuthCache } from '../../src/resolvers/auth.js';
import { createApp, type App } from '../../src/server.js';
import { DEVELOPMENT_WEBHOOK_SECRET, type TaskEngineConfig } from '../../src/config.js';
import { afterTaskFinished } from '../../src/resolvers/tasks.js';
import { configureWebhooks } from '../../src/resolvers/webhooks.js';
import { startWorker, type RunningWorker } from '../../src/workers/worker.js';
import type { WorkerMetrics } from '../../src/workers/metrics.js';
import { FAST_TASK_ENGINE, testTaskDefinitions } from './test-tasks.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { graphql, type GraphQLResponse } from './graphql.js';

export type PubSubKind = 'in-process' | 'redis';

export interface TestApp {
  app: App;
  pubsub: PubSub;
  /** http://127.0.0.1:<ephemeral port> */
  baseUrl: string;
  /** yoga.fetch, no socket involved. */
  fetch: (request: Request) => Promise<Response>;
  close(): Promise<void>;
}

export interface StartAppOptions {
  /** A kind made for the app, or one the test made (closed with the app all the same). */
  pubsub?: PubSubKind | PubSub;
  sseMaxBufferedBytes?: number;
  maxRequestBodyBytes?: number;
}

export interface Harness {
  readonly databaseUrl: string;
  readonly adminKey: string;
  readonly redisUrl: string | null;
  /** Unique per file: Redis channels of parallel files never meet. */
  readonly pubsubPrefix: string;
  startApp(options?: StartAppOptions): Promise<TestApp>;
  /** A GraphQL request through the first app, as the admin unless `key` says otherwise. */
  gql<TData = any>(query: string | import('@graphql-typed-document-node/core').TypedDocumentNode<TData, any>, variables?: Record<string, unknown>, key?: string | null): Promise<GraphQLResponse<TData>>;
  /** Every SQL statement Prisma sent in this file, in order (clear it to start counting). */
  readonly queryLog: string[];
  /** An in-process worker with test task types and fast timings (lease 2 s, poll 100 ms). */
  startWorker(pubsub: PubSub, overrides?: Partial<TaskEngineConfig> & { metrics?: WorkerMetrics }): Promise<RunningWorker>;
  /** Stops every worker started so far (tests that must own the queue call it in afterEach). */
  stopWorkers(): Promise<void>;
  /** Registers something to close at the end of the file. */
  onCleanup(close: () => Promise<void> | void): void;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap').length;
}

export const redisAvailable = Boolean(inject('redisUrl'));


export function useHarness(): Harness {
  let database: TestDatabase;
  let firstApp: TestApp | undefined;
  let baselineHandles = 0;
  const cleanups: Array<() => Promise<void> | void> = [];
  const workers: RunningWorker[] = [];
  const harness: Harness & { databaseUrl: string } = {
    databaseUrl: '',
    queryLog: [],
    adminKey: `test-admin-${randomBytes(12).toString('hex')}`,
    redisUrl: inject('redisUrl'),
    pubsubPrefix: `test:${randomBytes(6).toString('hex')}:`,
    onCleanup: (close: () => Promise<void> | void) => void cleanups.push(close),
    async startApp(options: StartAppOptions = {}): Promise<TestApp> {
      const kind = options.pubsub ?? 'in-process';
      if (kind === 'redis' && !harness.redisUrl) throw new Error('REDIS_URL is not set');
      const pubsub =
        typeof kind === 'object' ? kind : kind === 'redis' ? createRedisPubSub(harness.redisUrl!, harness.pubsubPrefix) : createInProcessPubSub(harness.pubsubPrefix);
      const app = createApp({
        adminApiKey: harness.adminKey,
        pubsub,
        sseMaxBufferedBytes: options.sseMaxBufferedBytes,
        maxRequestBodyBytes: options.maxRequestBodyBytes,
      });
      const server: Server = createServer(app.yoga);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      let closed = false;
      const testApp: TestApp = {
        app,
        pubsub,
        baseUrl: `http://127.0.0.1:${port}`,
        fetch: app.fetch,
        async close() {
          if (closed) return;
          closed = true;
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          app.close();
          await pubsub.close();
        },
      };
      cleanups.push(() => testApp.close());
      firstApp ??= testApp;
      return testApp;
    },
    async startWorker(pubsub: PubSub, overrides: Partial<TaskEngineConfig> & { metrics?: WorkerMetrics } = {}) {
      const worker = await startWorker({
        ...FAST_TASK_ENGINE,
        ...overrides,
        pubsub,
        definitions: testTaskDefinitions,
        onFinished: (task) => afterTaskFinished(task, pubsub),
      });
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((worker) => worker.stop(0)));
    },
    async gql(query: any, variables?: Record<string, unknown>, key: string | null = harness.adminKey) {
      const target = firstApp ?? (await harness.startApp());
      return graphql(target.fetch, query, variables, { key });
    },
  };

  beforeAll(async () => {
    baselineHandles = tcpHandles();
    database = await createTestDatabase(inject('adminDatabaseUrl'), inject('templateDatabase'));
    harness.databaseUrl = database.url;
    configureWebhooks({ secret: DEVELOPMENT_WEBHOOK_SECRET, allowPrivateTargets: true, timeoutMs: 2_000 });
    connectDatabase(database.url, { poolSize: 8, onQuery: (sql) => harness.queryLog.push(sql) });
    await db().$queryRaw`SELECT 1`;
  });

  afterAll(async () => {
    await harness.stopWorkers();
    for (const close of cleanups.reverse()) await close();
    await disconnectDatabase();
    resetAuthCache();
    await database?.drop();
    // Leak guard: sockets and servers opened by this file must be gone.
    const deadline = Date.now() + 2_000;
    while (tcpHandles() > baselineHandles && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(tcpHandles(), 'TCP servers or sockets left open by this test file').toBeLessThanOrEqual(baselineHandles);
  });

  return harness;
}

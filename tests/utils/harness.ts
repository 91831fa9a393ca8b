// Per test file: its own database (cloned from the migrated template), its own Redis
// channel prefix, API servers on ephemeral ports, and a leak guard that fails the file
// when a server, client or connection it opened is still open at the end.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createApp, type App } from '../../src/http/app.js';
import type { RateLimitOptions } from '../../src/http/rate-limit/limits.js';
import type { TaskEngineConfig } from '../../src/platform/config.js';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../../src/platform/webhook-defaults.js';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import {
  createInProcessPubSub,
  createRedisPubSub,
  type PubSub,
} from '../../src/platform/pubsub.js';
import {
  openResponseStore,
  type OpenedResponseStore,
} from '../../src/platform/response-cache/invalidation.js';
import type { ResponseStore } from '../../src/platform/response-cache/store.js';
import { dropChangedResponses } from '../../src/http/response-cache/changes.js';
import type { WebhookSettings } from '../../src/services/webhooks/delivery.js';
import type { WorkflowSettings } from '../../src/services/workflows/settings.js';
import {
  closeTopicSettings,
  createTopicSettings,
  type TopicSettings,
  type TopicSettingsOptions,
} from '../../src/services/topics/settings.js';
import {
  createLlmGateway,
  type LlmGateway,
  type LlmGatewayOptions,
} from '../../src/llm/gateway.js';
import { emitBudgetThreshold } from '../../src/services/llm/budget-webhooks.js';
import { startServiceWorker, taskFinishedStep } from '../../src/workers/index.js';
import type { WorkerMetrics } from '../../src/workers/metrics.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import type { TaskRegistry } from '../../src/workers/task-registry.js';
import type { RunningWorker } from '../../src/workers/worker.js';
import { generateKeyringText, parseKeyring, type Keyring } from '../../src/platform/vault.js';
import type { DownloadLinkSettings } from '../../src/services/topics/download-links.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { graphql, type GraphQLResponse } from './graphql.js';
import { livePublishing } from './live-publishing.js';
import { FAST_TASK_ENGINE, testTaskDefinitions } from './test-tasks.js';

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
  /** Headers GraphiQL opens with. */
  graphiqlHeaders?: Record<string, string>;
  /** AUTO_JOIN_DEFAULT_TEAM (default on). */
  autoJoinDefaultTeam?: boolean;
  /**
   * RESPONSE_CACHE on (needs Redis), with these TTLs, on the file's store unless `store` is
   * given; default off, as in production.
   */
  responseCache?: {
    ttlMs?: number;
    ttlPerCoordinate?: Record<string, number>;
    store?: ResponseStore;
  };
  /**
   * Rate limits as given (on the file's Redis unless `redis` says otherwise); default none,
   * unlike production (60 a minute per key), so that tests may send what they need.
   */
  rateLimits?: Partial<RateLimitOptions>;
  /** ADMIN_API_KEY (default: the harness's, `adminKey`). */
  adminApiKey?: string;
  /** TRUSTED_DOCUMENTS_ONLY (default off, as in production). */
  trustedDocumentsOnly?: boolean;
  /** DOWNLOAD_LINK_SECRET and DOWNLOAD_LINK_TTL_SECONDS; default: a secret of the app's own, 1 hour. */
  downloadLinks?: DownloadLinkSettings;
  /** The least time between two runs of a live query (default production's 100 ms). */
  liveQueryThrottleMs?: number;
}

/** The LLM gateway's options and the topics' plan limits, for configureLlm. */
export type ConfigureLlmOptions = LlmGatewayOptions &
  Pick<TopicSettingsOptions, 'planBudgetMs' | 'planRateLimitPerMinute'>;

/** A test worker's engine timings beside FAST_TASK_ENGINE, its metrics, its workflow settings. */
export type WorkerOverrides = Partial<TaskEngineConfig> & {
  metrics?: WorkerMetrics;
  workflows?: WorkflowSettings;
};

export interface Harness {
  readonly databaseUrl: string;
  readonly adminKey: string;
  readonly redisUrl: string | null;
  /** Unique per file: Redis channels of parallel files never meet. */
  readonly pubsubPrefix: string;
  /** This file's webhook settings, given to every app and worker it starts (a test may change them). */
  readonly webhooks: WebhookSettings;
  /** This file's LLM gateway (local provider), given to every app and worker; see configureLlm. */
  readonly llm: LlmGateway;
  /** This file's plan limits, given to every app and worker; see configureLlm. */
  readonly topicSettings: TopicSettings;
  /** This file's key vault keyring (every gateway of the file gets it unless told otherwise). */
  readonly keyring: Keyring;
  /**
   * Replaces the LLM gateway and plan limits every app and worker of this file use (closing the
   * old ones); the local provider and this file's Redis prefix unless the options say otherwise.
   */
  configureLlm(
    options?: ConfigureLlmOptions,
  ): Promise<{ llm: LlmGateway; topicSettings: TopicSettings }>;
  /** The service's task types and the tests' own, as every worker of this file runs them. */
  readonly registry: TaskRegistry;
  startApp(options?: StartAppOptions): Promise<TestApp>;
  /** A GraphQL request through the first app, as the admin unless `key` says otherwise. */
  gql<TData = any>(
    query: string | import('@graphql-typed-document-node/core').TypedDocumentNode<TData, any>,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GraphQLResponse<TData>>;
  /** Every SQL statement Prisma sent in this file, in order (clear it to start counting). */
  readonly queryLog: string[];
  /** A worker as production starts it (src/workers/index.ts), with the test task types and fast timings (lease 2 s, poll 100 ms). */
  startWorker(pubsub: PubSub, overrides?: WorkerOverrides): Promise<RunningWorker>;
  /** Stops every worker started so far (tests that must own the queue call it in afterEach). */
  stopWorkers(): Promise<void>;
  /** Registers something to close at the end of the file. */
  onCleanup(close: () => Promise<void> | void): void;
  /**
   * The file's response store in Redis (under its prefix), opened once: from then on every
   * service in this process drops what it changes from it, as a process with REDIS_URL does.
   */
  responseStore(): Promise<OpenedResponseStore>;
}

function tcpHandles(): number {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap').length;
}

export const redisAvailable = Boolean(inject('redisUrl'));

/** An app as main.ts makes it, on an ephemeral port, with the file's settings. */
async function startTestApp(
  harness: Harness,
  options: StartAppOptions,
  publishing: ReturnType<typeof livePublishing>,
): Promise<TestApp> {
  const kind = options.pubsub ?? 'in-process';
  if (kind === 'redis' && !harness.redisUrl) throw new Error('REDIS_URL is not set');
  const pubsub =
    typeof kind === 'object'
      ? kind
      : kind === 'redis'
        ? createRedisPubSub(harness.redisUrl!, harness.pubsubPrefix)
        : createInProcessPubSub(harness.pubsubPrefix);
  const app = createApp({
    adminApiKey: options.adminApiKey ?? harness.adminKey,
    pubsub,
    llm: harness.llm,
    topicSettings: harness.topicSettings,
    webhooks: harness.webhooks,
    taskFinished: taskFinishedStep(harness.registry, pubsub, undefined, harness.webhooks),
    sseMaxBufferedBytes: options.sseMaxBufferedBytes,
    maxRequestBodyBytes: options.maxRequestBodyBytes,
    graphiqlHeaders: options.graphiqlHeaders,
    keySettings: { autoJoinDefaultTeam: options.autoJoinDefaultTeam ?? true },
    responseCache: options.responseCache && {
      ttlMs: options.responseCache.ttlMs ?? 60_000,
      ttlPerCoordinate: options.responseCache.ttlPerCoordinate,
      store: options.responseCache.store ?? (await harness.responseStore()).store,
    },
    rateLimits: options.rateLimits && {
      key: null,
      team: null,
      maxOpenSubscriptionsPerKey: 0,
      trustedProxyHops: 0,
      redis: harness.redisUrl,
      keyPrefix: harness.pubsubPrefix,
      ...options.rateLimits,
    },
    trustedDocuments: { only: options.trustedDocumentsOnly ?? false },
    downloadLinks: options.downloadLinks,
    liveQueryThrottleMs: options.liveQueryThrottleMs,
  });
  const stopPublishing = publishing.add(pubsub);
  const server: Server = createServer(app.requestListener);
  app.attachWebSockets(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
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
      stopPublishing();
      await pubsub.close();
    },
  };
}

export function useHarness(): Harness {
  let database: TestDatabase;
  let firstApp: TestApp | undefined;
  let baselineHandles = 0;
  const cleanups: Array<() => Promise<void> | void> = [];
  const workers: RunningWorker[] = [];
  const webhooks: WebhookSettings = {
    secret: DEVELOPMENT_WEBHOOK_SECRET,
    allowPrivateTargets: true,
    timeoutMs: 2_000,
    // The first attempt and 3 retries, quickly: the schedule itself is production's.
    maxAttempts: 4,
    retryDelaysMs: [100, 200, 400],
    retentionDays: 30,
  };
  let responseStore: Promise<OpenedResponseStore> | undefined;
  const publishing = livePublishing();
  // Filled in beforeAll; apps and workers keep these objects, so configureLlm reaches them all.
  const llm = {} as LlmGateway;
  const topicSettings = {} as TopicSettings;
  const harness: Harness & { databaseUrl: string } = {
    databaseUrl: '',
    queryLog: [],
    adminKey: `test-admin-${randomBytes(12).toString('hex')}`,
    redisUrl: inject('redisUrl'),
    pubsubPrefix: `test:${randomBytes(6).toString('hex')}:`,
    webhooks,
    llm,
    topicSettings,
    keyring: parseKeyring(generateKeyringText()),
    registry: serviceTaskRegistry({ llm, topicSettings, webhooks }, testTaskDefinitions),
    onCleanup: (close: () => Promise<void> | void) => void cleanups.push(close),
    responseStore() {
      if (!harness.redisUrl) throw new Error('REDIS_URL is not set');
      if (!responseStore) {
        responseStore = openResponseStore(harness.redisUrl, harness.pubsubPrefix, {
          ttlMs: 60_000,
          ttlPerCoordinate: {},
        }).then((opened) => {
          const stopDropping = dropChangedResponses(opened.store);
          return {
            store: opened.store,
            async close() {
              stopDropping();
              await opened.close();
            },
          };
        });
        cleanups.unshift(async () => (await responseStore!).close());
      }
      return responseStore;
    },
    async configureLlm({ planBudgetMs, planRateLimitPerMinute, ...options } = {}) {
      const previous = llm.router ? { llm: { ...llm }, topics: { ...topicSettings } } : undefined;
      const keyPrefix = options.keyPrefix ?? harness.pubsubPrefix;
      Object.assign(
        llm,
        await createLlmGateway({
          // As main wires it: a budget past its soft limit sends budget.threshold.
          onSoftLimit: (crossing) =>
            void emitBudgetThreshold(crossing, { pubsub: llm.pubsub, webhooks }),
          ...options,
          keyPrefix,
          llm: { keyring: harness.keyring, ...options.llm },
        }),
      );
      Object.assign(
        topicSettings,
        await createTopicSettings({
          planBudgetMs,
          planRateLimitPerMinute,
          redis: options.redis,
          keyPrefix,
        }),
      );
      if (previous) {
        await previous.llm.close();
        await closeTopicSettings(previous.topics);
      }
      return { llm, topicSettings };
    },
    async startApp(options: StartAppOptions = {}): Promise<TestApp> {
      const testApp = await startTestApp(harness, options, publishing);
      cleanups.push(() => testApp.close());
      firstApp ??= testApp;
      return testApp;
    },
    async startWorker(pubsub: PubSub, { metrics, workflows, ...overrides }: WorkerOverrides = {}) {
      const worker = await startServiceWorker({
        tasks: { ...FAST_TASK_ENGINE, ...overrides },
        pubsub,
        registry: harness.registry,
        metrics,
        workflows,
        webhooks: harness.webhooks,
      });
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((worker) => worker.stop(0)));
    },
    async gql(
      query: any,
      variables?: Record<string, unknown>,
      key: string | null = harness.adminKey,
    ) {
      const target = firstApp ?? (await harness.startApp());
      return graphql(target.fetch, query, variables, { key });
    },
  };

  beforeAll(async () => {
    baselineHandles = tcpHandles();
    database = await createTestDatabase(inject('adminDatabaseUrl'), inject('templateDatabase'));
    harness.databaseUrl = database.url;
    connectDatabase(database.url, { poolSize: 8, onQuery: (sql) => harness.queryLog.push(sql) });
    await db().$queryRaw`SELECT 1`;
    await harness.configureLlm();
  });

  afterAll(async () => {
    await harness.stopWorkers();
    for (const close of cleanups.reverse()) await close();
    await llm.close();
    await closeTopicSettings(topicSettings);
    await disconnectDatabase();
    await database?.drop();
    // Leak guard: sockets and servers opened by this file must be gone.
    const deadline = Date.now() + 2_000;
    while (tcpHandles() > baselineHandles && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(tcpHandles(), 'TCP servers or sockets left open by this test file').toBeLessThanOrEqual(
      baselineHandles,
    );
  });

  return harness;
}

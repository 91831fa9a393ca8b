// Process entry: ROLE=all (API + worker, the default), api or worker. Reads the configuration
// once and passes what each part needs down; no DATABASE_URL: the embedded PostgreSQL, demo data.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import type { Registry } from 'prom-client';
import { loadDemoData } from './demo/load.js';
import { createApp, loadTrustedDocumentsManifest, type App } from './http/app.js';
import { dropChangedResponses } from './http/response-cache/changes.js';
import { publishLiveInvalidations } from './http/live-query/announce.js';
import { loadConfigOrExit, type Config } from './platform/config.js';
import { connectDatabase, databasePool, db, disconnectDatabase } from './platform/db.js';
import { closeRedisClient, createRedisClient } from './platform/redis.js';
import { connectReplicas, disconnectReplicas } from './platform/replicas.js';
import {
  localAdminApiKey,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from './platform/embedded-postgres.js';
import { developmentDownloadLinkSecret } from './platform/dev-download-link-secret.js';
import { preTouchYoungGeneration, setHeapGrowingPercent } from './platform/heap-growth.js';
import { startTracing } from './platform/tracing.js';
import {
  describeStartupFailure,
  portFailure,
  redactUrl,
  StartupError,
} from './platform/startup-failure.js';
import { logger } from './platform/logger.js';
import { createMetricsRegistry } from './platform/metrics.js';
import { applyPendingMigrations } from './platform/migrations/index.js';
import { createPubSub, type PubSub } from './platform/pubsub.js';
import { describeRedisTarget } from './platform/redis.js';
import { createServiceMetrics, type ServiceMetrics } from './services/metrics.js';
import {
  openResponseStore,
  type OpenedResponseStore,
} from './platform/response-cache/invalidation.js';
import { checkedWebhookSettings, type WebhookSettings } from './services/webhooks/delivery.js';
import type { DownloadLinkSettings } from './services/topics/download-links.js';
import {
  closeTopicSettings,
  createTopicSettings,
  type TopicSettings,
} from './services/topics/settings.js';
import { createLlmGateway, type LlmGateway } from './llm/gateway.js';
import { emitBudgetThreshold } from './services/llm/budget-webhooks.js';
import { checkPluginSecrets } from './services/plugins/vault-check.js';
import { checkEndpointSecrets } from './services/webhooks/vault-check.js';
import { startServiceWorker, taskFinishedStep } from './workers/index.js';
import { createWorkerMetrics } from './workers/metrics.js';
import { serveWorkerProbes } from './workers/probes.js';
import { serviceTaskRegistry } from './workers/tasks/index.js';

type Stop = () => Promise<void>;

interface Services {
  pubsub: PubSub;
  llm: LlmGateway;
  topicSettings: TopicSettings;
  webhooks: WebhookSettings;
  registry: ReturnType<typeof serviceTaskRegistry>;
  adminApiKey: string | undefined;
  embedded: EmbeddedDatabase | undefined;
  /** This process's /metrics (the API's, or a lone worker's on WORKER_HTTP_PORT). */
  metricsRegistry: Registry;
  metrics: ServiceMetrics;
  /** With Redis: every process drops what it changes from the shared response cache. */
  responseStore: OpenedResponseStore | undefined;
  /** The API's signed report links (a worker signs none). */
  downloadLinks: DownloadLinkSettings | undefined;
}

/** DOWNLOAD_LINK_SECRET, or outside production one kept in DATA_DIR (said in the log). */
async function downloadLinkSettings(config: Config): Promise<DownloadLinkSettings> {
  const { ttlSeconds } = config.downloadLinks;
  if (config.downloadLinks.secret) return { secret: config.downloadLinks.secret, ttlSeconds };
  const generated = await developmentDownloadLinkSecret(config.dataDir);
  logger.warn(
    { file: generated.file },
    'download links: development secret (DOWNLOAD_LINK_SECRET is unset); production needs the variable',
  );
  return { secret: generated.secret, ttlSeconds };
}

/**
 * Behind PgBouncer a session setting cannot be sent: the role carries the statement and idle
 * transaction timeouts (docs/operations.md, "Past one machine"). Said once at start when it does not.
 */
async function checkRoleSettings(expected: {
  statement_timeout: number;
  idle_in_transaction_session_timeout: number;
}): Promise<void> {
  const rows = await db().$queryRaw<Array<{ name: keyof typeof expected; ms: number }>>`
    SELECT name, setting::int AS ms FROM pg_settings
    WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout')`;
  for (const row of rows)
    if (row.ms !== expected[row.name])
      logger.warn(
        { setting: row.name, expected: expected[row.name], actual: row.ms },
        `the role's ${row.name} differs from this process's setting behind PgBouncer ` +
          `(ALTER ROLE <user> SET ${row.name} = <ms>)`,
      );
}

/** An API process's read replicas (docs/operations.md, "Read replicas"), when configured. */
async function startReadReplicas(config: Config, stops: Stop[]): Promise<void> {
  const { replicaUrls, replicaMaxLagMs, poolMax, poolTimeoutMs, poolMin, poolIdleMs } =
    config.database;
  if (!replicaUrls.length) return;
  const redis = config.redis
    ? await createRedisClient(config.redis, 'agent-growth:read-your-writes', {
        commandTimeoutMs: 1_000,
      })
    : undefined;
  await connectReplicas(databasePool, {
    urls: replicaUrls,
    maxLagMs: replicaMaxLagMs,
    poolSize: poolMax,
    acquireTimeoutMs: poolTimeoutMs,
    poolMin,
    poolIdleMs,
    redis,
    keyPrefix: config.pubsubPrefix,
  });
  stops.push(async () => {
    await disconnectReplicas();
    if (redis) await closeRedisClient(redis);
  });
}

/** PostgreSQL (DATABASE_URL's, or the embedded one), migrated and connected; the demo data when asked. */
async function startDatabase(
  config: Config,
): Promise<{ embedded: EmbeddedDatabase | undefined; adminApiKey: string | undefined }> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  // Through a direct connection: the migration engine holds a session (docs/operations.md).
  const migrationUrl = config.database.directUrl ?? databaseUrl;
  const variable = migrationUrl === config.databaseUrl ? 'DATABASE_URL' : 'DIRECT_DATABASE_URL';
  const applied = await applyPendingMigrations(migrationUrl).catch((error: unknown) => {
    if (!config.databaseUrl) throw error;
    const reason =
      String((error as Error)?.message ?? error)
        .split('\n')
        .find((line) => line.trim()) ?? 'unknown error';
    throw new StartupError(
      `cannot use PostgreSQL at ${redactUrl(migrationUrl)} (${variable}): ${reason.trim()}`,
    );
  });
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const { pooler, poolMax, poolTimeoutMs, poolMin, poolIdleMs } = config.database;
  const { statementTimeoutMs, idleInTransactionTimeoutMs } = config.database;
  connectDatabase(databaseUrl, {
    pooler,
    poolSize: poolMax,
    acquireTimeoutMs: poolTimeoutMs,
    poolMin,
    poolIdleMs,
    statementTimeoutMs,
    idleInTransactionTimeoutMs,
  });
  if (pooler === 'pgbouncer')
    await checkRoleSettings({
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    });
  const adminApiKey =
    config.adminApiKey ?? (embedded ? await localAdminApiKey(config.dataDir) : undefined);
  if (config.loadDemoData) await loadDemoData();
  return { embedded, adminApiKey };
}

function createApi(config: Config, services: Services): App {
  const { pubsub, llm, topicSettings, webhooks, registry, adminApiKey, embedded } = services;
  return createApp({
    adminApiKey,
    pubsub,
    llm,
    topicSettings,
    webhooks,
    taskFinished: taskFinishedStep(registry, pubsub, services.metrics.queue, webhooks),
    metricsRegistry: services.metricsRegistry,
    metrics: services.metrics,
    keySettings: { autoJoinDefaultTeam: config.autoJoinDefaultTeam },
    workflows: config.workflows,
    downloadLinks: services.downloadLinks,
    sseMaxBufferedBytes: config.sseMaxBufferedBytes,
    rateLimits: { ...config.rateLimits, redis: config.redis, keyPrefix: config.pubsubPrefix },
    trustedDocuments: config.trustedDocuments,
    tracing: Boolean(config.tracing.endpoint),
    presence: { ...config.presence, redis: config.redis, keyPrefix: config.pubsubPrefix },
    responseCache:
      config.responseCache.enabled && services.responseStore
        ? { ...config.responseCache, store: services.responseStore.store }
        : undefined,
    // Only on the embedded default, to a browser on this machine (app.ts): GraphiQL ready to use.
    graphiqlHeaders:
      embedded && adminApiKey && config.nodeEnv !== 'production'
        ? { Authorization: `Bearer ${adminApiKey}` }
        : undefined,
  });
}

/**
 * The API's port, bound before anything else starts: a port in use is said at once, not
 * after the database's start. Until the app takes over, every request gets 503.
 */
async function bindPort(config: Config, stops: Stop[]): Promise<Server> {
  const server = createServer((_request, response) => {
    response
      .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
      .end('{"status":"starting"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(portFailure(error, 'PORT')));
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Closes it if the start failed before listen() took it over (which closes it first otherwise).
  stops.push(
    () =>
      new Promise<void>((resolve) =>
        server.listening ? server.close(() => resolve()) : resolve(),
      ),
  );
  return server;
}

/** Last of the start: "API listening" says the whole process is ready. */
async function listen(
  server: Server,
  app: App,
  config: Config,
  services: Services,
  stops: Stop[],
): Promise<void> {
  const { pubsub, adminApiKey, embedded } = services;
  server.removeAllListeners('request');
  server.on('request', app.requestListener);
  app.attachWebSockets(server);
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logger.info(
    { port, role: config.role, pubsub: pubsub.kind, embedded: Boolean(embedded) },
    'API listening',
  );
  console.log(`\nGraphiQL:     http://${shownHost}:${port}/graphql`);
  console.log(
    `Subscriptions: graphql-sse at http://${shownHost}:${port}/graphql/stream, graphql-ws at ` +
      `ws://${shownHost}:${port}/graphql, multipart on /graphql`,
  );
  if (embedded && adminApiKey)
    console.log(`Admin API key: ${adminApiKey}  (kept in ${config.dataDir}/admin-api-key)\n`);
  stops.push(async () => {
    app.drain();
    app.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Event streams never end by themselves: close idle keep-alives now, the rest after the grace period.
      server.closeIdleConnections();
      setTimeout(
        () => server.closeAllConnections(),
        Math.min(config.shutdownTimeoutMs, 2_000),
      ).unref();
    });
  });
}

/** The worker; with the API in this process its metrics join the API's, alone it serves its own probes. */
async function startWorkerRole(
  config: Config,
  services: Services,
  stops: Stop[],
  stopping: () => boolean,
): Promise<void> {
  // The probes' port first: one in use is said before the worker claims anything.
  const probes =
    config.role !== 'worker' || config.workerHttpPort === undefined
      ? undefined
      : await serveWorkerProbes({
          port: config.workerHttpPort,
          host: config.host,
          registry: services.metricsRegistry,
          stopping,
        }).catch((error: unknown) => {
          throw portFailure(error, 'WORKER_HTTP_PORT');
        });
  // Closed after the worker's stop (stops run in reverse): /ready answers 503 while it drains.
  if (probes) stops.push(() => probes.close());
  const worker = await startServiceWorker({
    tasks: config.tasks,
    pubsub: services.pubsub,
    registry: services.registry,
    metrics: createWorkerMetrics(services.metricsRegistry),
    queueMetrics: services.metrics.queue,
    workflows: config.workflows,
    webhooks: services.webhooks,
  });
  stops.push(() => worker.stop(config.shutdownTimeoutMs / 2));
  if (probes)
    logger.info({ port: probes.port }, 'worker probes listening (/health, /ready, /metrics)');
}

/** Everything the role needs, in order; each part's stop is pushed as it starts. */
async function start(config: Config, stops: Stop[], stopping: () => boolean): Promise<void> {
  stops.push(await startTracing(config.tracing, config.role));
  const server = config.role === 'worker' ? undefined : await bindPort(config, stops);
  const { embedded, adminApiKey } = await startDatabase(config);
  if (embedded) stops.push(() => embedded.stop());
  stops.push(() => disconnectDatabase());
  if (config.role !== 'worker') await startReadReplicas(config, stops);
  const pubsub = createPubSub(config.redis, config.pubsubPrefix);
  stops.push(() => pubsub.close());
  if (config.redis && !(await pubsub.ping())) {
    throw new StartupError(
      `cannot reach Redis at ${describeRedisTarget(config.redis)}: is it running? Unset ` +
        `it for in-process pub/sub`,
    );
  }
  const webhooks = checkedWebhookSettings(config.webhooks);
  const metricsRegistry = createMetricsRegistry();
  const metrics = createServiceMetrics(metricsRegistry);
  // The LLM gateway over the key vault (its keyring checked on every stored key).
  const llm = await createLlmGateway({
    llm: config.llm,
    vault: config,
    pubsub,
    redis: config.redis,
    keyPrefix: config.pubsubPrefix,
    metrics: metrics.llm,
    onSoftLimit: (crossing) =>
      void emitBudgetThreshold(crossing, { pubsub, webhooks, metrics: metrics.queue }),
  });
  stops.push(() => llm.close());
  await checkEndpointSecrets(llm.keyring, config.nodeEnv);
  await checkPluginSecrets(llm.keyring, config.nodeEnv);
  const topicSettings = await createTopicSettings({
    ...config.topics,
    redis: config.redis,
    keyPrefix: config.pubsubPrefix,
  });
  stops.push(() => closeTopicSettings(topicSettings));
  const registry = serviceTaskRegistry({
    llm,
    topicSettings,
    webhooks,
    metrics,
    workflows: config.workflows,
  });
  // Opened whether this process caches or not: its changes must reach the API processes that do.
  const responseStore = config.redis
    ? await openResponseStore(config.redis, config.pubsubPrefix, config.responseCache)
    : undefined;
  if (responseStore) {
    stops.push(() => responseStore.close());
    const stopDropping = dropChangedResponses(responseStore.store);
    stops.push(async () => stopDropping());
  }
  // Whatever this process changes reaches every API process's live queries (API or worker).
  const stopPublishing = publishLiveInvalidations(pubsub);
  stops.push(async () => stopPublishing());
  const services: Services = {
    pubsub,
    llm,
    topicSettings,
    webhooks,
    registry,
    adminApiKey,
    embedded,
    metricsRegistry,
    metrics,
    responseStore,
    downloadLinks: config.role === 'worker' ? undefined : await downloadLinkSettings(config),
  };
  if (config.role !== 'worker') await loadTrustedDocumentsManifest(config.trustedDocuments);
  const app = config.role === 'worker' ? undefined : createApi(config, services);
  if (config.role !== 'api') await startWorkerRole(config, services, stops, stopping);
  if (app && server) await listen(server, app, config, services, stops);
}

/** What was thrown, as an Error: the log line always carries a message and a stack. */
function startFailureCause(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(`the start was abandoned with ${inspect(error)} instead of an error`);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  logger.level = config.logLevel;
  setHeapGrowingPercent(config.heapGrowingPercent);
  if (config.role === 'worker') preTouchYoungGeneration();
  // What was started, in order; stopped in the reverse order.
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((err) => logger.error({ err }, 'error during shutdown'));
  };
  let stopping = false;
  // SIGINT (Ctrl+C, which a terminal sends to the whole process group) and SIGTERM: the same graceful stop.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await stopAll();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    await start(config, stops, () => stopping);
  } catch (error) {
    if (stopping) return; // a signal arrived during the start: shutdown() ends the process
    const reason = describeStartupFailure(error);
    if (reason) console.error(`cannot start: ${reason}`);
    else logger.fatal({ err: startFailureCause(error) }, 'failed to start');
    stopping = true;
    await stopAll();
    process.exit(1);
  }
}

// A promise nobody awaits (a Redis command cut off by a reconnect) must not end the process.
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

void main();

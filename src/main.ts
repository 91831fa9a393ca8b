// Process entry: ROLE=all (API + worker, the default), api, or worker.
// With no DATABASE_URL it starts the embedded PostgreSQL and loads the demo data.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connectDatabase, disconnectDatabase } from './db.js';
import { loadDemoData } from './demo/load.js';
import { localAdminApiKey, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { setHeapGrowingPercent } from './heap-growth.js';
import { logger } from './logger.js';
import { applyPendingMigrations } from './migrations/index.js';
import { createPubSub } from './pubsub.js';
import { createApp } from './server.js';
import { configureWebhooks } from './resolvers/webhooks.js';
import { closeTopics, configureTopics } from './resolvers/topic-settings.js';
import { startServiceWorker } from './workers/index.js';
import { createWorkerMetrics } from './workers/metrics.js';
import { serveWorkerProbes, type WorkerProbes } from './workers/probes.js';
import type { RunningWorker } from './workers/worker.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  logger.level = config.logLevel;
  setHeapGrowingPercent(config.heapGrowingPercent);

  let embedded: EmbeddedDatabase | undefined;
  const databaseUrl = config.databaseUrl ?? (embedded = await startEmbeddedPostgres(config.dataDir)).url;
  const applied = await applyPendingMigrations(databaseUrl);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  connectDatabase(databaseUrl);

  const adminApiKey = config.adminApiKey ?? (embedded ? await localAdminApiKey(config.dataDir) : undefined);
  if (config.loadDemoData) await loadDemoData();

  const pubsub = createPubSub(config.redisUrl, config.pubsubPrefix);
  configureWebhooks(config.webhooks);
  // Text provider, LLM planner and the plan rate limit (shared through Redis when set).
  await configureTopics({ reports: config.reports, redisUrl: config.redisUrl, keyPrefix: config.pubsubPrefix });
  const stops: Array<() => Promise<void>> = [];

  const app =
    config.role === 'worker'
      ? undefined
      : createApp({
          adminApiKey,
          pubsub,
          sseMaxBufferedBytes: config.sseMaxBufferedBytes,
          // Only on the local embedded default: GraphiQL opens ready to use.
          graphiqlHeaders: embedded && adminApiKey && config.nodeEnv !== 'production' ? { Authorization: `Bearer ${adminApiKey}` } : undefined,
        });

  let worker: RunningWorker | undefined;
  let probes: WorkerProbes | undefined;
  let stopping = false;
  if (config.role !== 'api') {
    // With the API in this process, its /metrics has the worker's too; alone, the worker has its own.
    const registry = app?.metricsRegistry ?? new Registry();
    if (!app) collectDefaultMetrics({ register: registry });
    worker = await startServiceWorker(config, pubsub, createWorkerMetrics(registry));
    if (!app && config.workerHttpPort !== undefined) {
      probes = await serveWorkerProbes({ port: config.workerHttpPort, host: config.host, registry, stopping: () => stopping });
      logger.info({ port: probes.port }, 'worker probes listening (/health, /ready, /metrics)');
    }
  }

  if (app) {
    const server = createServer(app.yoga);
    await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
    const { port } = server.address() as AddressInfo;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    logger.info({ port, role: config.role, pubsub: pubsub.kind, embedded: Boolean(embedded) }, 'API listening');
    console.log(`\nGraphiQL:     http://${shownHost}:${port}/graphql`);
    console.log(`Subscriptions: http://${shownHost}:${port}/graphql/stream (graphql-sse)`);
    if (embedded && adminApiKey) console.log(`Admin API key: ${adminApiKey}  (kept in ${config.dataDir}/admin-api-key)\n`);
    stops.push(async () => {
      app.drain();
      app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end by themselves: close idle keep-alives now, the rest after the grace period.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), Math.min(config.shutdownTimeoutMs, 2_000)).unref();
      });
    });
  }
  if (worker) stops.push(() => worker.stop(config.shutdownTimeoutMs / 2));
  // After the worker: /ready answers 503 while it drains.
  if (probes) stops.push(() => probes.close());
  stops.push(() => closeTopics());
  stops.push(() => pubsub.close());
  stops.push(() => disconnectDatabase());
  if (embedded) stops.push(() => embedded.stop());

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    for (const stop of stops) {
      await stop().catch((err) => logger.error({ err }, 'error during shutdown'));
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

// A library promise nobody awaits (e.g. a Redis command cut off by a reconnect) must not
// take the process down: log it; state lives in PostgreSQL and the poll catches up.
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

main().catch((err) => {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
});

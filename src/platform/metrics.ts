// The Prometheus registry of a process (prom-client), with Node's own process metrics and its
// database pool. The API adds its HTTP, GraphQL and queue metrics (src/http/metrics.ts), a
// worker its attempts (src/workers/metrics.ts), both the services' (src/services/metrics.ts).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { databasePoolStats, type DatabasePoolStats } from './db.js';
import { readRouting } from './replicas.js';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerDatabasePoolGauges(registry);
  registerReadRoutingMetrics(registry);
  return registry;
}

/** Read replicas (docs/operations.md, "Read replicas"): reads per target, each one's lag. */
function registerReadRoutingMetrics(registry: Registry): void {
  new Counter({
    name: 'db_reads_total',
    help: 'Query operations by where their lag-tolerant reads went (primary, replica-<n>).',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      const routing = readRouting();
      if (!routing) return;
      this.reset();
      for (const [target, reads] of routing.reads) this.inc({ target }, reads);
    },
  });
  new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'How far each read replica was behind the primary at its last poll (+Inf: down).',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const state of readRouting()?.state() ?? [])
        this.set({ replica: state.name }, state.lagMs / 1_000);
    },
  });
  new Gauge({
    name: 'db_replica_up',
    help: 'Whether each read replica answered its last poll (1) or not (0).',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const state of readRouting()?.state() ?? [])
        this.set({ replica: state.name }, state.up ? 1 : 0);
    },
  });
}

/** The pg pool behind Prisma, read at scrape time: in use, idle, waiting, and its size. */
function registerDatabasePoolGauges(registry: Registry): void {
  const gauge = (name: string, help: string, read: (stats: DatabasePoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = databasePoolStats();
        if (stats) this.set(read(stats));
      },
    });
  gauge('db_pool_connections_in_use', 'PostgreSQL connections lent out now.', (s) => s.inUse);
  gauge('db_pool_connections_idle', 'PostgreSQL connections open and idle.', (s) => s.idle);
  gauge(
    'db_pool_waiting_requests',
    'Statements and transactions waiting for a PostgreSQL connection (the pool is exhausted).',
    (s) => s.waiting,
  );
  gauge('db_pool_max_connections', 'The pool size.', (s) => s.max);
}

// The Prometheus registry of a process (prom-client), with Node's own process metrics and its
// database pool. The API adds its HTTP, GraphQL and queue metrics (src/http/metrics.ts), a
// worker its attempts (src/workers/metrics.ts), both the services' (src/services/metrics.ts).
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { databasePoolStats, type DatabasePoolStats } from './db.js';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerDatabasePoolGauges(registry);
  return registry;
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

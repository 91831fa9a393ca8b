// The Prometheus registry of a process (prom-client), with Node's own process metrics. The
// API adds its GraphQL and queue metrics, a worker its attempts (src/workers/metrics.ts).
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

// The response cache's counters on the process's registry: no labels (nothing a client
// chooses, no ids).
import { Counter, type Registry } from 'prom-client';

export function createResponseCacheMetrics(registry: Registry) {
  const hits = new Counter({
    name: 'response_cache_hits_total',
    help: 'Queries answered from the response cache',
    registers: [registry],
  });
  const misses = new Counter({
    name: 'response_cache_misses_total',
    help: 'Cacheable queries the response cache did not hold (executed)',
    registers: [registry],
  });
  return { hit: () => hits.inc(), miss: () => misses.inc() };
}

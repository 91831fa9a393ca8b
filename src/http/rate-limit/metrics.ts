// The rate limits' counter on /metrics: refusals by what refused and the operation's type,
// never by key, team or address (docs/operations.md "Probes and metrics").
import { Counter, type Registry } from 'prom-client';

export type RefusalScope = 'key' | 'team' | 'ip' | 'open_subscriptions';

export interface RateLimitMetrics {
  refused(scope: RefusalScope, operation: string): void;
}

export function createRateLimitMetrics(registry: Registry): RateLimitMetrics {
  const refusals = new Counter({
    name: 'rate_limit_refusals_total',
    help:
      'Operations refused by a rate limit: by the bucket that refused (key, team, ip) or ' +
      'open_subscriptions (the per-key cap), and the operation type.',
    labelNames: ['scope', 'operation'] as const,
    registers: [registry],
  });
  return { refused: (scope, operation) => refusals.inc({ scope, operation }) };
}

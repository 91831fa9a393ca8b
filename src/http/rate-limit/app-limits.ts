// One app's rate limits: the buckets, the open-subscription cap and the counter (limits.ts),
// with the yoga plugins that apply them to /graphql (plugin.ts).
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { ContextOptions } from '../context.js';
import { createRateLimits, type RateLimitOptions, type RateLimits } from './limits.js';
import { rateLimitPlugins } from './plugin.js';

export type { RateLimitOptions };

export function createAppRateLimits(
  options: RateLimitOptions,
  registry: Registry,
  contextOptions: ContextOptions,
): RateLimits & { plugins: { address: Plugin; admit: Plugin; answer: Plugin } } {
  const limits = createRateLimits(options, registry);
  return Object.assign(limits, { plugins: rateLimitPlugins(limits, contextOptions) });
}

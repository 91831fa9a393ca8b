// The rate-limit settings (RATE_LIMIT_*, MAX_OPEN_SUBSCRIPTIONS_PER_KEY, TRUSTED_PROXY_HOPS):
// their part of the environment's schema and their typed form, read by config.ts with the rest.
import { z } from 'zod';

const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const rateLimitEnv = {
  // docs/operations.md "Rate limits": per key (and per client IP without a key); 0: no limits.
  RATE_LIMIT_PER_MINUTE: count(60),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(120),
  // Every key of a team together; 0: no team bucket.
  RATE_LIMIT_TEAM_PER_MINUTE: count(600),
  RATE_LIMIT_TEAM_BURST: z.coerce.number().int().min(1).default(1_200),
  MAX_OPEN_SUBSCRIPTIONS_PER_KEY: count(100),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
};

type RateLimitEnv = { [K in keyof typeof rateLimitEnv]: z.infer<(typeof rateLimitEnv)[K]> };

export interface BucketRate {
  perMinute: number;
  burst: number;
}

export interface RateLimitConfig {
  /** Each API key's bucket, and each client address's for requests without a valid key; null: off. */
  key: BucketRate | null;
  /** One bucket for all keys of a team; null: none. */
  team: BucketRate | null;
  /** Subscriptions one key may hold open at once on one API process (0: no cap). */
  maxOpenSubscriptionsPerKey: number;
  /** Proxies in front of the API whose X-Forwarded-For entries are trusted (0: the socket's address). */
  trustedProxyHops: number;
}

export function rateLimitConfig(e: RateLimitEnv): RateLimitConfig {
  const on = e.RATE_LIMIT_PER_MINUTE > 0;
  return {
    key: on ? { perMinute: e.RATE_LIMIT_PER_MINUTE, burst: e.RATE_LIMIT_BURST } : null,
    team:
      on && e.RATE_LIMIT_TEAM_PER_MINUTE > 0
        ? { perMinute: e.RATE_LIMIT_TEAM_PER_MINUTE, burst: e.RATE_LIMIT_TEAM_BURST }
        : null,
    maxOpenSubscriptionsPerKey: e.MAX_OPEN_SUBSCRIPTIONS_PER_KEY,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
  };
}

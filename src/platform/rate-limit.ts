// Per-user rate limits (10 plans per minute per user → 429). rate-limiter-flexible
// keeps the buckets in Redis when Redis is configured (one key per bucket, so no hash tag on
// a cluster), so every API process counts against
// the same budget; in memory otherwise. A Redis outage falls back to an in-memory bucket
// per process (its insurance limiter) instead of failing the request.
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { RateLimitedError } from './errors.js';
import {
  closeRedisClient,
  createRedisClient,
  type RedisConnection,
  type RedisSource,
} from './redis.js';

export interface RateLimitSettings {
  points: number;
  durationSeconds: number;
  /** Unset: one in-memory bucket per process. */
  redis?: RedisSource | null;
  /** Redis keys are `<keyPrefix>:<key>`; distinct per deployment (and per test file). */
  keyPrefix: string;
}

export interface RateLimiter {
  readonly kind: 'redis' | 'memory';
  /** Takes one point for `key`, or throws a RateLimitedError with its retryAfter (seconds). */
  consume(key: string, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function createRateLimiter(settings: RateLimitSettings): Promise<RateLimiter> {
  const memory = (): RateLimiterMemory =>
    new RateLimiterMemory({
      points: settings.points,
      duration: settings.durationSeconds,
      keyPrefix: settings.keyPrefix,
    });
  let redis: RedisConnection | undefined;
  let limiter: RateLimiterAbstract;
  if (settings.redis) {
    redis = await createRedisClient(settings.redis, 'agent-growth:rate-limit');
    limiter = new RateLimiterRedis({
      storeClient: redis,
      points: settings.points,
      duration: settings.durationSeconds,
      keyPrefix: settings.keyPrefix,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory(),
    });
  } else {
    limiter = memory();
  }
  return {
    kind: redis ? 'redis' : 'memory',
    async consume(key, what) {
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new RateLimitedError(
          `Too many ${what}: at most ${settings.points} per ${settings.durationSeconds} s; retry in ${retryAfter} s`,
          retryAfter,
        );
      }
    },
    async close() {
      if (redis) await closeRedisClient(redis);
    },
  };
}

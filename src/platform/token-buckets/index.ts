// Token buckets for rate limits, shared by every API process through Redis when Redis is
// configured. @upstash/ratelimit holds them in Redis (a true token bucket with a cost per take, which
// rate-limiter-flexible 11 lacks: its limiters are fixed windows, BurstyRateLimiter two of
// them); limiter's TokenBucket holds them in memory. While Redis is away or slow each process
// takes from its own buckets: a Redis outage neither refuses everyone nor lets everyone through.
// A fast caller's takes come mostly from tokens this process leased ahead (leases.ts).
import { logger } from '../logger.js';
import {
  closeRedisClient,
  createRedisConnection,
  logConnectionErrors,
  type RedisConnection,
  type RedisSource,
} from '../redis.js';
import { LeasedBuckets } from './leases.js';
import { MemoryBuckets } from './memory.js';
import { RedisBuckets } from './redis.js';
import type { BucketRequest, TakeOutcome } from './types.js';

export type { BucketRate, BucketRequest, BucketState } from './types.js';

/** A take that Redis has not answered by then is taken from this process's buckets instead. */
const COMMAND_TIMEOUT_MS = 500;
/** After a failed take, this long on the fallback before Redis is tried again (a hung Redis costs one timeout). */
const RETRY_REDIS_AFTER_MS = 1_000;
/** How long the first takes wait for the first connection before using the fallback. */
const FIRST_CONNECTION_WAIT_MS = 2_000;

export interface TokenBuckets {
  /** Takes `cost` tokens from every bucket named, or from none of them. */
  take(
    requests: readonly BucketRequest[],
    cost: number,
  ): Promise<TakeOutcome & { shared: boolean }>;
  close(): Promise<void>;
}

function firstConnection(redis: RedisConnection): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, FIRST_CONNECTION_WAIT_MS);
    timer.unref();
    // Ready, or the first attempt failed (the fallback serves while ioredis retries).
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', settle);
    redis.once('error', settle);
  });
}

export function createTokenBuckets(options: {
  /** Unset: every process keeps its own buckets. */
  redis?: RedisSource | null;
  keyPrefix: string;
}): TokenBuckets {
  const memory = new MemoryBuckets();
  if (!options.redis) {
    return {
      take: async (requests, cost) => ({ ...(await memory.take(requests, cost)), shared: false }),
      close: async () => {},
    };
  }
  const redis = createRedisConnection(options.redis, {
    connectionName: 'agent-growth:rate-limits',
    // Commands fail at once while Redis is away, and after COMMAND_TIMEOUT_MS when it hangs.
    offlineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    // The key's and the team's buckets of a request leave in one write (per node on a cluster).
    autoPipelining: true,
  });
  const log = logger.child({ module: 'rate-limits' });
  logConnectionErrors(redis, log);
  const connected = firstConnection(redis);
  const shared = new LeasedBuckets(new RedisBuckets(redis, `${options.keyPrefix}rate`));
  let failing = false;
  let skipUntil = 0;
  return {
    async take(requests, cost) {
      await connected;
      if (redis.status === 'ready' && Date.now() >= skipUntil) {
        try {
          const outcome = await shared.take(requests, cost);
          if (failing) log.info('rate limits shared through Redis again');
          failing = false;
          return { ...outcome, shared: true };
        } catch (error) {
          if (!failing)
            log.warn({ err: (error as Error).message }, 'rate limits per process: Redis failed');
          failing = true;
          skipUntil = Date.now() + RETRY_REDIS_AFTER_MS;
        }
      }
      return { ...(await memory.take(requests, cost)), shared: false };
    },
    async close() {
      await shared.close(redis.status === 'ready');
      await closeRedisClient(redis);
    },
  };
}

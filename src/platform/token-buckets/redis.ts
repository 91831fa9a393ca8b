// Token buckets in Redis, one hash per bucket, shared by every API process: @upstash/ratelimit's
// token bucket, one atomic Lua script per take that honours a cost (`rate`). Its client is
// Upstash's REST one; ours is ioredis, so `scriptRunner` gives it the two calls it makes.
// Each take's script touches its bucket's one key (`<prefix>:<scope>:<id>`), so on a cluster
// the buckets need no hash tag and spread over the shards (src/platform/redis.ts).
import { createHash } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import type { RedisConnection } from '../redis.js';
import { msPerToken, seconds, type BucketRate, type BucketRequest } from './types.js';
import type { BucketState, BucketStore, TakeOutcome } from './types.js';

type UpstashRedis = ConstructorParameters<typeof Ratelimit>[0]['redis'];

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * EVALSHA and EVAL as @upstash/redis names them (keys and arguments as arrays). Since 2.1 the
 * library's scripts start `#!lua flags=allow-key-locking`, a flag only Upstash's server knows
 * (Redis 7 refuses the script): it only narrows Upstash's locking, so it is dropped here, and
 * the library's script hashes are mapped to those of the scripts as sent.
 */
function scriptRunner(redis: RedisConnection): UpstashRedis {
  const sent = new Map<string, string>();
  const runner = {
    evalsha(sha: string, keys: string[], args: unknown[]) {
      const ours = sent.get(sha);
      // The library answers NOSCRIPT with EVAL (its safeEval), which fills the map.
      if (!ours) return Promise.reject(new Error('NOSCRIPT not sent yet'));
      return redis.evalsha(ours, keys.length, ...keys, ...(args as string[]));
    },
    eval(script: string, keys: string[], args: unknown[]) {
      const portable = script.replace(/^#!lua flags=[^\n]*/, '#!lua');
      sent.set(sha1(script), sha1(portable));
      return redis.eval(portable, keys.length, ...keys, ...(args as string[]));
    },
  };
  return runner as unknown as UpstashRedis;
}

/** Upstash refills `refillRate` tokens every interval (whole milliseconds). */
function refill(rate: BucketRate): { refillRate: number; intervalMs: number } {
  const perToken = msPerToken(rate);
  return perToken >= 1
    ? { refillRate: 1, intervalMs: Math.round(perToken) }
    : { refillRate: Math.round(rate.perMinute / 60_000), intervalMs: 1 };
}

export class RedisBuckets implements BucketStore {
  private readonly limiters = new Map<string, Ratelimit>();
  private readonly redis: UpstashRedis;

  constructor(
    redis: RedisConnection,
    private readonly prefix: string,
  ) {
    this.redis = scriptRunner(redis);
  }

  private limiter(rate: BucketRate): Ratelimit {
    const name = `${rate.perMinute}/${rate.burst}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      const { refillRate, intervalMs } = refill(rate);
      limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.tokenBucket(refillRate, `${intervalMs} ms`, rate.burst),
        prefix: this.prefix,
        // Redis errors reach us (and the fallback) instead of passing the request after 5 s.
        timeout: 0,
        // Its local block list would refuse a cheap request after an expensive one was refused.
        ephemeralCache: false,
        analytics: false,
        enableProtection: false,
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  private async takeOne(request: BucketRequest, cost: number, now: number) {
    const result = await this.limiter(request.rate).limit(`${request.scope}:${request.id}`, {
      rate: cost,
    });
    const { refillRate, intervalMs } = refill(request.rate);
    const nextRefillMs = Math.max(0, result.reset - now);
    // The next refill brings refillRate tokens, each later one as many again.
    const untilHolding = (tokens: number) =>
      tokens <= 0 ? 0 : nextRefillMs + (Math.ceil(tokens / refillRate) - 1) * intervalMs;
    /** The bucket as of now, holding `remaining` tokens (after the take, or after a give back). */
    const holding = (remaining: number): BucketState => ({
      scope: request.scope,
      rate: request.rate,
      remaining,
      fullInSeconds: seconds(untilHolding(request.rate.burst - remaining)),
    });
    // Refused: the script does not say how many tokens were left; this bound assumes none.
    const state: BucketState = result.success
      ? holding(result.remaining)
      : { ...holding(0), retryAfterSeconds: Math.max(1, seconds(untilHolding(cost))) };
    return { success: result.success, state, holding };
  }

  take(requests: readonly BucketRequest[], cost: number): Promise<TakeOutcome> {
    return this.takeEach(
      requests,
      requests.map(() => cost),
    );
  }

  /** Takes `costs[i]` tokens from bucket i, from every one of them or from none. */
  async takeEach(
    requests: readonly BucketRequest[],
    costs: readonly number[],
  ): Promise<TakeOutcome> {
    const now = Date.now();
    const results = await Promise.all(requests.map((r, i) => this.takeOne(r, costs[i]!, now)));
    const allowed = results.every((result) => result.success);
    if (!allowed) {
      // All or nothing: give back what the other buckets gave.
      await Promise.all(
        requests.map((request, i) =>
          results[i]!.success ? this.give(request, costs[i]!) : undefined,
        ),
      );
    }
    // A bucket that gave and got its tokens back: full again as if this take never happened.
    const given = ({ state, holding }: (typeof results)[number], i: number) =>
      holding(Math.min(state.rate.burst, state.remaining + costs[i]!));
    return {
      allowed,
      buckets: results.map((result, i) =>
        allowed || !result.success ? result.state : given(result, i),
      ),
    };
  }

  /**
   * Puts tokens back (a take of a negative cost). The script does not cap a refund at the
   * burst: a bucket refilled meanwhile holds more until its next refill (leases.ts says so).
   */
  async give(request: BucketRequest, tokens: number): Promise<void> {
    await this.limiter(request.rate).limit(`${request.scope}:${request.id}`, { rate: -tokens });
  }
}

// Rate limits for every caller (docs/operations.md "Rate limits"): a token bucket per API key
// and one per team that all its keys share, and one per client address for requests without
// a valid key, taken from before anything runs, at the operation's cost; the operator's key
// is exempt. Besides, a cap on the subscriptions one key holds open (per API process).
import { GraphQLError } from 'graphql';
import type { Registry } from 'prom-client';
import type { RateLimitConfig } from '../../platform/config.js';
import { ErrorCode, RateLimitedError } from '../../platform/errors.js';
import type { RedisSource } from '../../platform/redis.js';
import {
  createTokenBuckets,
  type BucketRequest,
  type BucketState,
} from '../../platform/token-buckets/index.js';
import type { Caller } from '../../services/auth/caller.js';
import { graphQLErrorOf } from '../../schema/errors.js';
import { createCostReader, type OperationCost } from './cost.js';
import { rateLimitHeaders } from './headers.js';
import { createRateLimitMetrics, type RefusalScope } from './metrics.js';

export interface RateLimitOptions extends RateLimitConfig {
  /** Unset: every process keeps its own buckets. */
  redis?: RedisSource | null;
  /** Redis keys are `<keyPrefix>rate:<scope>:<id>`. */
  keyPrefix: string;
}

export interface Admission {
  /** RateLimit, RateLimit-Policy and X-RateLimit-* (and Retry-After on a refusal). */
  headers: Record<string, string>;
  /** Refused: RATE_LIMITED with extensions.retryAfter, and extensions.http for yoga (429 and the headers). */
  refusal?: GraphQLError;
}

export interface RateLimits {
  /** undefined: no limit applies (limits off, or the operator). */
  admit(
    caller: Caller | undefined,
    address: string,
    operation: OperationCost,
  ): Promise<Admission | undefined>;
  /**
   * A slot for one more open subscription of the caller's key (a live query, `query`, holds
   * one too), or the refusal.
   */
  openSubscription(
    caller: Caller,
    kind: 'subscription' | 'query',
  ): { release(): void } | GraphQLError;
  readonly costs: ReturnType<typeof createCostReader>;
  /** The client address of each request (recorded as it arrives; graphql-ws records its own). */
  readonly addresses: WeakMap<Request, string>;
  readonly trustedProxyHops: number;
  /** What each HTTP request was admitted with, for its answer's headers. */
  readonly admissions: WeakMap<Request, Admission>;
  close(): Promise<void>;
}

const WHOSE: Record<string, string> = {
  key: 'this API key',
  team: "this API key's team",
  ip: 'requests without a valid API key from this address',
};

function refusalOf(buckets: readonly BucketState[]): Admission {
  const refusing = buckets.filter((b) => b.retryAfterSeconds !== undefined);
  const retryAfter = Math.max(...refusing.map((b) => b.retryAfterSeconds!));
  const first = refusing[0]!;
  const headers = rateLimitHeaders(buckets, retryAfter);
  const error = new RateLimitedError(
    `Rate limit of ${WHOSE[first.scope]} reached (${first.rate.perMinute} per minute, bursts ` +
      `of ${first.rate.burst}); retry in ${retryAfter} s`,
    retryAfter,
  );
  return {
    headers,
    refusal: graphQLErrorOf(error, { extensions: { http: { status: 429, headers } } }),
  };
}

function bucketsOf(
  config: RateLimitConfig,
  caller: Caller | undefined,
  address: string,
): BucketRequest[] {
  if (!config.key) return [];
  if (!caller) return [{ scope: 'ip', id: address, rate: config.key }];
  const buckets: BucketRequest[] = [{ scope: 'key', id: caller.apiKeyId!, rate: config.key }];
  if (config.team) buckets.push({ scope: 'team', id: caller.teamId, rate: config.team });
  return buckets;
}

export function createRateLimits(options: RateLimitOptions, registry: Registry): RateLimits {
  const buckets = createTokenBuckets(options);
  const metrics = createRateLimitMetrics(registry);
  const openByKey = new Map<string, number>();
  const max = options.maxOpenSubscriptionsPerKey;
  return {
    costs: createCostReader(),
    addresses: new WeakMap(),
    admissions: new WeakMap(),
    trustedProxyHops: options.trustedProxyHops,
    async admit(caller, address, operation) {
      if (caller?.isOperator) return undefined;
      const requests = bucketsOf(options, caller, address);
      if (!requests.length) return undefined;
      const outcome = await buckets.take(requests, Math.min(operation.cost, minBurst(requests)));
      if (outcome.allowed) return { headers: rateLimitHeaders(outcome.buckets) };
      const scope = outcome.buckets.find((b) => b.retryAfterSeconds !== undefined)!.scope;
      metrics.refused(scope as RefusalScope, operation.kind);
      return refusalOf(outcome.buckets);
    },
    openSubscription(caller, kind) {
      const key = caller.apiKeyId;
      if (!max || caller.isOperator || !key) return { release: () => {} };
      const open = openByKey.get(key) ?? 0;
      if (open >= max) {
        metrics.refused('open_subscriptions', kind);
        return new GraphQLError(
          `Too many open subscriptions for this API key (at most ${max}): end one first`,
          {
            extensions: {
              code: ErrorCode.RATE_LIMITED,
              maxOpenSubscriptions: max,
              http: { status: 429 },
            },
          },
        );
      }
      openByKey.set(key, open + 1);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const left = (openByKey.get(key) ?? 1) - 1;
          if (left > 0) openByKey.set(key, left);
          else openByKey.delete(key);
        },
      };
    },
    close: () => buckets.close(),
  };
}

/** An operation dearer than a bucket can ever hold costs the whole bucket instead. */
const minBurst = (requests: readonly BucketRequest[]) =>
  Math.min(...requests.map((r) => r.rate.burst));

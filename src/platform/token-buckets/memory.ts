// One process's token buckets (limiter's TokenBucket): what rate limits fall back to while
// Redis is away, and what a process without REDIS_URL uses. A bucket not seen for a while is
// full again anyway, so the oldest are dropped past MAX_BUCKETS.
import { TokenBucket } from 'limiter';
import { msPerToken, seconds, type BucketRequest, type BucketState } from './types.js';
import type { BucketStore, TakeOutcome } from './types.js';

const MAX_BUCKETS = 50_000;

export class MemoryBuckets implements BucketStore {
  private readonly buckets = new Map<string, TokenBucket>();

  private bucket({ scope, id, rate }: BucketRequest): TokenBucket {
    const name = `${scope}:${id}:${rate.perMinute}/${rate.burst}`;
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = new TokenBucket({
        bucketSize: rate.burst,
        tokensPerInterval: rate.perMinute,
        interval: 60_000,
      });
      bucket.content = rate.burst; // limiter's buckets start empty; ours start full
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  /** All or nothing, like limiter's hierarchy: no await between the check and the debit. */
  take(requests: readonly BucketRequest[], cost: number): Promise<TakeOutcome> {
    const buckets = requests.map((request) => this.bucket(request));
    for (const bucket of buckets) bucket.drip();
    const allowed = buckets.every((bucket) => bucket.content >= cost);
    if (allowed) for (const bucket of buckets) bucket.content -= cost;
    const states = requests.map((request, i): BucketState => {
      const { content } = buckets[i]!;
      const perToken = msPerToken(request.rate);
      return {
        scope: request.scope,
        rate: request.rate,
        remaining: Math.floor(content),
        fullInSeconds: seconds((request.rate.burst - content) * perToken),
        retryAfterSeconds:
          content < cost ? Math.max(1, seconds((cost - content) * perToken)) : undefined,
      };
    });
    return Promise.resolve({ allowed, buckets: states });
  }
}

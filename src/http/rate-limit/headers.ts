// The headers that tell a client its limits: the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers-09, structured-field lists with one item per bucket)
// and the older X-RateLimit-Limit/-Remaining/-Reset for the bucket nearest to empty.
import type { BucketRate, BucketState } from '../../platform/token-buckets/index.js';

/** The time an empty bucket takes to fill: a token bucket as draft-09's quota q over window w. */
const windowSeconds = (rate: BucketRate) => Math.ceil((rate.burst * 60) / rate.perMinute);

/** The bucket a client should watch: least left, then slowest to fill. */
function tightest(buckets: readonly BucketState[]): BucketState {
  return buckets.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.fullInSeconds > a.fullInSeconds)
      ? b
      : a,
  );
}

export function rateLimitHeaders(
  buckets: readonly BucketState[],
  retryAfter?: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-policy': buckets
      .map((b) => `"${b.scope}";q=${b.rate.burst};w=${windowSeconds(b.rate)}`)
      .join(', '),
    // draft-09: t is the seconds until the quota resets, for a token bucket until it is full
    // again, as of this answer (a refused request took nothing, so its cost is not in it).
    ratelimit: buckets.map((b) => `"${b.scope}";r=${b.remaining};t=${b.fullInSeconds}`).join(', '),
  };
  const watched = tightest(buckets);
  headers['x-ratelimit-limit'] = String(watched.rate.burst);
  headers['x-ratelimit-remaining'] = String(watched.remaining);
  headers['x-ratelimit-reset'] = String(watched.fullInSeconds);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return headers;
}

// Tokens taken from the shared buckets ahead of need, per process: a fast caller's requests
// mostly take from this process's lease, one Redis exchange for many requests instead of one
// each (a response-cache hit is little more than that exchange). Written by hand: neither
// @upstash/ratelimit nor limiter leases. What it trades, and where it does not:
// - a bucket is leased from only while its caller is fast (it took in the last LEASE_WINDOW_MS)
//   and the bucket held more than half its burst; near the limit every take is exact, and a
//   process is refused only once its lease is spent (a take Redis refused is served from what
//   takes beside it leased meanwhile), so one process alone serves exactly the burst;
// - a lease holds at most 1/32 of the burst (at most MAX_LEASE): what another process may be
//   refused early while this one holds it, until this one spends it or gives it back;
// - a lease unused for LEASE_IDLE_MS goes back to Redis (at most one lease above the burst
//   when refills filled the bucket meanwhile: the library's refund does not cap it).
import type { RedisBuckets } from './redis.js';
import type { BucketRequest, BucketState, BucketStore, TakeOutcome } from './types.js';

export const LEASE_IDLE_MS = 250;
const LEASE_WINDOW_MS = 100;
const MAX_LEASE = 256;

interface Lease {
  name: string;
  request: BucketRequest;
  /** Tokens this process holds for the bucket. */
  tokens: number;
  /** The bucket as Redis last answered (remaining excludes `tokens`). */
  state: BucketState | undefined;
  usedAt: number;
  /** Tokens taken through this process since `windowStart`. */
  demand: number;
  windowStart: number;
}

const nameOf = ({ scope, id, rate }: BucketRequest) =>
  `${scope}:${id}:${rate.perMinute}/${rate.burst}`;

/** How many tokens beyond `cost` to take from Redis into the lease. */
function extraFor(lease: Lease, cost: number): number {
  const { burst } = lease.request.rate;
  const wanted = Math.min(MAX_LEASE, Math.floor(burst / 32), lease.demand - cost);
  if (wanted <= 0 || !lease.state) return 0;
  return lease.state.remaining - cost - wanted >= burst / 2 ? wanted : 0;
}

export class LeasedBuckets implements BucketStore {
  private readonly leases = new Map<string, Lease>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly shared: RedisBuckets) {
    this.sweeper = setInterval(
      () => void this.giveBackIdle(Date.now() - LEASE_IDLE_MS),
      LEASE_IDLE_MS,
    );
    this.sweeper.unref();
  }

  private leaseOf(request: BucketRequest, now: number): Lease {
    const name = nameOf(request);
    let lease = this.leases.get(name);
    if (!lease) {
      lease = {
        name,
        request,
        tokens: 0,
        state: undefined,
        usedAt: now,
        demand: 0,
        windowStart: now,
      };
      this.leases.set(name, lease);
    }
    if (now - lease.windowStart > LEASE_WINDOW_MS) {
      lease.demand = 0;
      lease.windowStart = now;
    }
    lease.usedAt = now;
    return lease;
  }

  async take(requests: readonly BucketRequest[], cost: number): Promise<TakeOutcome> {
    const now = Date.now();
    const leases = requests.map((request) => this.leaseOf(request, now));
    for (const lease of leases) lease.demand += cost;
    // The leases that hold the cost give it now (back if Redis refuses another bucket).
    const held = leases.map((lease) => lease.tokens >= cost);
    leases.forEach((lease, i) => held[i] && (lease.tokens -= cost));
    const short = leases.filter((_, i) => !held[i]);
    if (!short.length) return { allowed: true, buckets: leases.map(stateOf) };
    let taken: TakeOutcome | undefined;
    try {
      const extras = short.map((lease) => extraFor(lease, cost));
      const take = (extra: readonly number[]) =>
        this.shared.takeEach(
          short.map((lease) => lease.request),
          extra.map((tokens) => cost + tokens),
        );
      taken = await take(extras);
      // Refused with a lease on top: the exact take decides.
      if (!taken.allowed && extras.some((tokens) => tokens > 0))
        taken = await take(extras.map(() => 0));
      else if (taken.allowed)
        short.forEach((lease, i) => {
          lease.tokens += extras[i]!;
          // Swept as idle while Redis answered: kept, so the sweep gives its tokens back later.
          if (!this.leases.has(lease.name)) this.leases.set(lease.name, lease);
        });
      short.forEach((lease, i) => (lease.state = taken!.buckets[i]));
      // Refused, while takes side by side (each short of its lease when it began) leased ahead:
      // those tokens are this process's, taken from these buckets, and serve this take.
      if (!taken.allowed && short.every((lease) => lease.tokens >= cost)) {
        short.forEach((lease) => (lease.tokens -= cost));
        taken = { allowed: true, buckets: taken.buckets };
      }
    } finally {
      if (!taken?.allowed) leases.forEach((lease, i) => held[i] && (lease.tokens += cost));
    }
    const buckets = leases.map((lease, i) =>
      held[i] ? stateOf(lease) : { ...taken!.buckets[short.indexOf(lease)]!, ...heldBy(lease) },
    );
    return { allowed: taken!.allowed, buckets };
  }

  /** Gives back what leases unused since `before` hold (and forgets the empty ones). */
  async giveBackIdle(before = Infinity): Promise<void> {
    const idle = [...this.leases].filter(([, lease]) => lease.usedAt < before);
    await Promise.all(
      idle.map(async ([name, lease]) => {
        this.leases.delete(name);
        if (lease.tokens > 0) await this.shared.give(lease.request, lease.tokens).catch(() => {});
      }),
    );
  }

  /** Stops the sweep; `giveBack`: what every lease holds goes back to Redis first. */
  async close(giveBack: boolean): Promise<void> {
    clearInterval(this.sweeper);
    if (giveBack) await this.giveBackIdle();
  }
}

/** What the caller could still take: Redis's remaining and this process's lease. */
function heldBy(lease: Lease): Pick<BucketState, 'remaining'> {
  const remaining = (lease.state?.remaining ?? 0) + lease.tokens;
  return { remaining: Math.min(lease.request.rate.burst, remaining) };
}

function stateOf(lease: Lease): BucketState {
  return { ...lease.state!, ...heldBy(lease) };
}

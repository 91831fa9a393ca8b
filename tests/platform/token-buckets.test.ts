// Token buckets in real Redis, with each process's leases (src/platform/token-buckets/leases.ts):
// a fast caller takes from tokens leased ahead, yet one process alone and two processes
// together serve exactly the burst, and a lease left idle goes back to Redis.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTokenBuckets, type TokenBuckets } from '../../src/platform/token-buckets/index.js';
import { LEASE_IDLE_MS } from '../../src/platform/token-buckets/leases.js';
import { redisAvailable } from '../utils/harness.js';

const REDIS_URL = inject('redisUrl') ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL, { lazyConnect: true });
const stores: TokenBuckets[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  redis.disconnect();
});

function store(keyPrefix: string): TokenBuckets {
  const buckets = createTokenBuckets({ redis: REDIS_URL, keyPrefix });
  stores.push(buckets);
  return buckets;
}

const prefix = () => `test-buckets:${randomBytes(4).toString('hex')}:`;
const bucket = (burst: number) => ({ scope: 'key', id: 'k1', rate: { perMinute: 1, burst } });

/** Takes one token at a time, `parallel` at once, until `count` takes answered. */
async function takeMany(buckets: TokenBuckets, burst: number, count: number, parallel = 8) {
  let allowed = 0;
  let sent = 0;
  let shared = true;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (sent < count) {
        sent++;
        const outcome = await buckets.take([bucket(burst)], 1);
        if (outcome.allowed) allowed++;
        shared &&= outcome.shared;
      }
    }),
  );
  expect(shared).toBe(true); // every take went through Redis's buckets, none to the fallback
  return allowed;
}

/** The tokens Redis's hash for the bucket holds. */
async function tokensInRedis(keyPrefix: string): Promise<number> {
  const [key] = await redis.keys(`${keyPrefix}rate*k1*`);
  return Number(await redis.hget(key!, 'tokens'));
}

describe.skipIf(!redisAvailable)('token buckets with leases, on real Redis', () => {
  it('leases ahead to a fast caller and gives an idle lease back', async () => {
    const keyPrefix = prefix();
    const buckets = store(keyPrefix);
    expect(await takeMany(buckets, 3_200, 300)).toBe(300);
    // Redis gave this process more than it used (the lease), and takes it back once idle.
    expect(await tokensInRedis(keyPrefix)).toBeLessThan(3_200 - 300);
    await sleep(LEASE_IDLE_MS * 3);
    expect(await tokensInRedis(keyPrefix)).toBe(3_200 - 300);
  });

  it('serves exactly the burst to a fast caller of one process', async () => {
    const keyPrefix = prefix();
    expect(await takeMany(store(keyPrefix), 640, 800)).toBe(640);
    expect(await tokensInRedis(keyPrefix)).toBe(0);
  });

  it('serves exactly the burst to takes all made at once (subscriptions on one socket)', async () => {
    const keyPrefix = prefix();
    const buckets = store(keyPrefix);
    expect((await buckets.take([bucket(120)], 1)).allowed).toBe(true);
    // Each take is short of the lease when it starts, and leases ahead; what the others leased
    // meanwhile serves one that Redis then refuses.
    expect(await takeMany(buckets, 120, 200, 200)).toBe(119);
    await sleep(LEASE_IDLE_MS * 3);
    expect(await tokensInRedis(keyPrefix)).toBe(0);
  });

  it('serves exactly the burst to a fast caller of two processes together', async () => {
    const keyPrefix = prefix();
    const [a, b] = [store(keyPrefix), store(keyPrefix)];
    const [fromA, fromB] = await Promise.all([takeMany(a, 640, 500), takeMany(b, 640, 500)]);
    expect(fromA + fromB).toBe(640);
    expect(fromA).toBeGreaterThan(0);
    expect(fromB).toBeGreaterThan(0);
  });

  it('takes exactly for a slow caller: Redis holds what was taken after every take', async () => {
    const keyPrefix = prefix();
    const buckets = store(keyPrefix);
    for (let i = 1; i <= 3; i++) {
      expect((await buckets.take([bucket(3_200)], 1)).allowed).toBe(true);
      expect(await tokensInRedis(keyPrefix)).toBe(3_200 - i);
      await sleep(150); // longer than the lease's demand window
    }
  });
});

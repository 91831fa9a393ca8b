// Deployments cooling down after a failure (30 s, or the provider's Retry-After up
// to 60 s), known to every process: a cooldown is a Redis key with that expiry, and a
// signal tells the other processes at once; each keeps its own map, so the router's check
// is a lookup, and a lost signal is caught by the next read of the keys (every
// REFRESH_MS). Without Redis (or while it is away) each process keeps its own. The keys are
// read together (one MGET), so they share a hash tag: one slot on a cluster.
import { logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import {
  closeRedisClient,
  createRedisClient,
  slotKeys,
  type RedisConnection,
  type RedisSource,
} from '../platform/redis.js';

export const DEFAULT_COOLDOWN_MS = 30_000;
export const MAX_COOLDOWN_MS = 60_000;
const REFRESH_MS = 2_000;
/** How long a call waits for the first read of its route's cooldowns (Redis slow or away). */
const FIRST_READ_MS = 250;

export interface Cooldowns {
  /** Until when (epoch ms) the deployment is skipped; undefined: it is not. */
  until(deploymentId: string): number | undefined;
  /** Starts (or lengthens) a cooldown, here and in every process. */
  cool(deploymentId: string, retryAfterMs: number | undefined): void;
  /**
   * Deployments to keep reading from Redis (the ones routes name); while those not watched
   * before are read (at most FIRST_READ_MS), a promise of that read, so a new process's first
   * call already skips a deployment another process cooled down before it started. Undefined
   * when no read is under way (a call then goes on in the same tick).
   */
  watch(deploymentIds: Iterable<string>): Promise<void> | undefined;
  close(): Promise<void>;
}

export const cooldownMsFor = (retryAfterMs: number | undefined) =>
  Math.min(MAX_COOLDOWN_MS, Math.max(1_000, retryAfterMs ?? DEFAULT_COOLDOWN_MS));

/** Settles when `work` does or after `ms`, whichever comes first; never rejects. */
function atMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.catch(() => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Every process's cooldowns as they start, noted here. */
function followSignals(pubsub: PubSub, note: (id: string, until: number) => void) {
  const signals = pubsub.subscribe('llmCooldown', 'all');
  void (async () => {
    for await (const signal of signals) note(signal.deploymentId, signal.until);
  })().catch((err: unknown) => logger.warn({ err }, 'LLM cooldown signal stopped'));
  signals.ready.catch(() => {});
  return signals;
}

export async function createCooldowns(options: {
  pubsub: PubSub;
  redis?: RedisSource | null;
  keyPrefix: string;
}): Promise<Cooldowns> {
  const local = new Map<string, number>();
  const watched = new Set<string>();
  const keys = slotKeys(options.keyPrefix, 'llm-cooldown');
  const keyOf = (id: string) => `${keys}${id}`;
  const redis: RedisConnection | undefined = options.redis
    ? await createRedisClient(options.redis, 'agent-growth:llm-cooldowns')
    : undefined;
  const note = (id: string, until: number) => {
    if ((local.get(id) ?? 0) < until) local.set(id, until);
  };
  const signals = followSignals(options.pubsub, note);

  async function refresh(): Promise<void> {
    if (!redis || watched.size === 0 || redis.status !== 'ready') return;
    const ids = [...watched];
    const values = await redis.mget(ids.map(keyOf));
    values.forEach((value, index) => value && note(ids[index]!, Number(value)));
  }
  const poll = setInterval(() => void refresh().catch(() => {}), REFRESH_MS);
  poll.unref();
  /** The read of newly watched deployments under way (calls made meanwhile wait for it too). */
  let firstRead: Promise<void> | undefined;

  return {
    until(id) {
      const until = local.get(id);
      if (until === undefined) return undefined;
      if (until > Date.now()) return until;
      local.delete(id);
      return undefined;
    },
    cool(id, retryAfterMs) {
      const ms = cooldownMsFor(retryAfterMs);
      const until = Date.now() + ms;
      note(id, until);
      void options.pubsub.publish('llmCooldown', 'all', { deploymentId: id, until });
      if (redis?.status === 'ready') redis.set(keyOf(id), String(until), 'PX', ms).catch(() => {});
    },
    watch(ids) {
      const before = watched.size;
      for (const id of ids) watched.add(id);
      if (watched.size > before) {
        const read = atMost(refresh(), FIRST_READ_MS).finally(() => {
          if (firstRead === read) firstRead = undefined;
        });
        firstRead = read;
      }
      return firstRead;
    },
    async close() {
      clearInterval(poll);
      await signals.return?.();
      if (redis) await closeRedisClient(redis);
    },
  };
}

// The response cache's store in Redis, shared by every API process, and the invalidation
// every process (API or worker) runs after it commits a change. Responses are tagged (an
// entity `Type:id`, a type, a root field); invalidating a tag deletes every response holding
// it. Written here rather than @envelop/response-cache-redis: that store runs KEYS on
// invalidation (blocking Redis), writes unprefixed index sets that never expire, and lets a
// reader that started before a change write its stale response after the invalidation; the
// scripts (scripts.ts) close that race with an invalidation clock.
import type { Redis } from 'ioredis';
import { logger } from '../logger.js';
import { FLUSH_SCRIPT, GET_SCRIPT, INVALIDATE_SCRIPT, SET_SCRIPT } from './scripts.js';

/** How long an invalidation is remembered for readers that started before it. */
const INVALIDATION_MEMORY_MS = 10 * 60_000;
/** A response that took longer than this from its miss to its write is not kept. */
const PENDING_MAX_MS = 60_000;
/** Requests between their miss and their write, at most (the oldest marks go first). */
const PENDING_MAX = 10_000;

interface Pending {
  clock: string;
  epoch: string;
  at: number;
}

type ScriptRedis = Redis & {
  responseGet(prefix: string, id: string): Promise<[number, string, string?]>;
  responseSet(...args: Array<string | number>): Promise<number>;
  responseInvalidate(...args: Array<string | number>): Promise<number>;
  responseFlush(prefix: string): Promise<number>;
};

/**
 * `request`: a token of the request asking (unique per request). A miss notes the clock for
 * that request, and its write is checked against what was invalidated since.
 */
export interface ResponseStore {
  /** The stored JSON text of a response, or undefined (a miss; also when Redis is away). */
  get(id: string, request: string): Promise<string | undefined>;
  /** Keeps a response unless something it holds was invalidated since the request's miss. */
  set(
    id: string,
    request: string,
    json: string,
    tags: readonly string[],
    ttlMs: number,
  ): Promise<boolean>;
  /** The request is done (whether it wrote or not): forget its miss. */
  release(request: string): void;
  /** Deletes every response holding one of the tags; never throws (see dirty below). */
  invalidate(tags: readonly string[]): Promise<void>;
  /** Resolves once every invalidation started so far has finished. */
  settled(): Promise<void>;
  /** Drops every response (a new epoch). */
  flush(): Promise<void>;
}

function defineScripts(redis: Redis): ScriptRedis {
  redis.defineCommand('responseGet', { numberOfKeys: 0, lua: GET_SCRIPT });
  redis.defineCommand('responseSet', { numberOfKeys: 0, lua: SET_SCRIPT });
  redis.defineCommand('responseInvalidate', { numberOfKeys: 0, lua: INVALIDATE_SCRIPT });
  redis.defineCommand('responseFlush', { numberOfKeys: 0, lua: FLUSH_SCRIPT });
  return redis as ScriptRedis;
}

/**
 * `prefix`: the deployment's (PUBSUB_PREFIX) plus `rc:`. `tagTtlMs`: the longest response
 * TTL, which the tag sets outlive.
 */
export function createResponseStore(
  client: Redis,
  options: { prefix: string; tagTtlMs: number },
): ResponseStore {
  const redis = defineScripts(client);
  const { prefix } = options;
  const log = logger.child({ module: 'response-cache' });
  const pending = new Map<string, Pending>();
  const inflight = new Set<Promise<void>>();
  // An invalidation Redis did not take: once it is back every response is dropped, since
  // one of them may hold what that invalidation meant to delete.
  let dirty = false;
  const flush = async () => {
    await redis.responseFlush(prefix);
    dirty = false;
  };
  redis.on('ready', () => {
    if (dirty) flush().catch((err: Error) => log.warn({ err: err.message }, 'flush failed'));
  });

  function notePending(request: string, clock: string, epoch: string): void {
    if (pending.size >= PENDING_MAX) pending.delete(pending.keys().next().value!);
    pending.set(request, { clock, epoch, at: Date.now() });
  }

  async function invalidateNow(tags: readonly string[]): Promise<void> {
    try {
      await redis.responseInvalidate(prefix, INVALIDATION_MEMORY_MS, ...tags);
    } catch (error) {
      dirty = true;
      log.warn(
        { err: (error as Error).message },
        'invalidation failed; flushing when Redis is back',
      );
    }
  }

  return {
    async get(id, request) {
      // Asked again by the same request (yoga looks up before and at execution): a miss
      // still, and the first mark is the one that precedes its reads.
      if (pending.has(request)) return undefined;
      try {
        const [found, value, epoch] = await redis.responseGet(prefix, id);
        if (found) return value;
        notePending(request, value, epoch!);
      } catch (error) {
        log.debug({ err: (error as Error).message }, 'response cache read failed');
      }
      return undefined;
    },
    async set(id, request, json, tags, ttlMs) {
      const mark = pending.get(request);
      pending.delete(request);
      if (!mark || Date.now() - mark.at > PENDING_MAX_MS || dirty) return false;
      const tagTtl = Math.max(ttlMs, options.tagTtlMs);
      try {
        const args = [prefix, id, json, ttlMs, mark.clock, mark.epoch, tagTtl, ...tags];
        return (await redis.responseSet(...args)) === 1;
      } catch (error) {
        log.debug({ err: (error as Error).message }, 'response cache write failed');
        return false;
      }
    },
    release(request) {
      pending.delete(request);
    },
    invalidate(tags) {
      if (tags.length === 0) return Promise.resolve();
      const done = invalidateNow([...new Set(tags)]);
      inflight.add(done);
      void done.finally(() => inflight.delete(done));
      return done;
    },
    async settled() {
      await Promise.all([...inflight]);
    },
    flush,
  };
}

// The response cache's store in Redis, shared by every API process, and the invalidation
// every process (API or worker) runs after it commits a change. Responses are tagged (an
// entity `Type:id`, a type, a root field); invalidating a tag deletes every response holding
// it. Written here rather than @envelop/response-cache-redis: that store runs KEYS on
// invalidation (blocking Redis), writes unprefixed index sets that never expire, and lets a
// reader that started before a change write its stale response after the invalidation; the
// scripts (scripts.ts) close that race with an invalidation clock.
import { logger } from '../logger.js';
import type { RedisConnection } from '../redis.js';
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

/** Each script's first argument is its number of keys (scripts.ts says which they are). */
type ScriptRedis = RedisConnection & {
  responseGet(...args: Array<string | number>): Promise<[number, string, string?]>;
  responseSet(...args: Array<string | number>): Promise<number>;
  responseInvalidate(...args: Array<string | number>): Promise<number>;
  responseFlush(...args: Array<string | number>): Promise<number>;
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
  /**
   * Whether the request's answer was kept: its write's outcome (false when none was made, as
   * while Redis is away, or the invalidation clock refused it). Asked before release.
   */
  kept(request: string): Promise<boolean>;
  /** The request is done (whether it wrote or not): forget its miss. */
  release(request: string): void;
  /** Deletes every response holding one of the tags; never throws (see dirty below). */
  invalidate(tags: readonly string[]): Promise<void>;
  /** Resolves once every invalidation started so far has finished. */
  settled(): Promise<void>;
  /** Drops every response (a new epoch). */
  flush(): Promise<void>;
}

function defineScripts(redis: RedisConnection): ScriptRedis {
  redis.defineCommand('responseGet', { lua: GET_SCRIPT });
  redis.defineCommand('responseSet', { lua: SET_SCRIPT });
  redis.defineCommand('responseInvalidate', { lua: INVALIDATE_SCRIPT });
  redis.defineCommand('responseFlush', { lua: FLUSH_SCRIPT });
  return redis as ScriptRedis;
}

/** The keys and arguments of a script call, led by the number of keys (ioredis's form). */
const call = (keys: readonly string[], args: ReadonlyArray<string | number>) => [
  keys.length,
  ...keys,
  ...args,
];

class RedisResponseStore implements ResponseStore {
  private readonly redis: ScriptRedis;
  private readonly log = logger.child({ module: 'response-cache' });
  /** Each request's miss: the clock and epoch it saw, until it writes or is done. */
  private readonly pending = new Map<string, Pending>();
  /** Each request's write, until the request is released (as many as pending, at most). */
  private readonly writing = new Map<string, Promise<boolean>>();
  /** The flush owed since an invalidation Redis did not take, while it runs. */
  private flushing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /**
   * An invalidation Redis did not take: once it is back every response is dropped, since one
   * of them may hold what that invalidation meant to delete.
   */
  private dirty = false;

  constructor(
    client: RedisConnection,
    private readonly prefix: string,
    private readonly tagTtlMs: number,
  ) {
    this.redis = defineScripts(client);
    this.redis.on('ready', () => {
      if (this.dirty) void this.flushOwed();
    });
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  async get(id: string, request: string): Promise<string | undefined> {
    // Asked again by the same request (yoga looks up before and at execution): a miss still,
    // and the first mark is the one that precedes its reads.
    if (this.pending.has(request)) return undefined;
    // A drop Redis did not take: nothing is served (nor kept) until every answer is dropped;
    // a Redis that hung rather than went away never says 'ready' again, so a read asks.
    if (this.dirty && !(await this.flushOwed())) return undefined;
    try {
      const [found, value, epoch] = await this.redis.responseGet(
        ...call([this.key('epoch'), this.key('clock')], [this.prefix, id]),
      );
      if (found) return value;
      if (this.pending.size >= PENDING_MAX) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(request, { clock: value, epoch: epoch!, at: Date.now() });
    } catch (error) {
      this.log.debug({ err: (error as Error).message }, 'response cache read failed');
    }
    return undefined;
  }

  set(id: string, request: string, json: string, tags: readonly string[], ttlMs: number) {
    const mark = this.pending.get(request);
    this.pending.delete(request);
    if (!mark || Date.now() - mark.at > PENDING_MAX_MS || this.dirty) return Promise.resolve(false);
    const written = this.write(id, json, tags, ttlMs, mark);
    if (this.writing.size >= PENDING_MAX) this.writing.delete(this.writing.keys().next().value!);
    this.writing.set(request, written);
    return written;
  }

  private async write(
    id: string,
    json: string,
    tags: readonly string[],
    ttlMs: number,
    mark: Pending,
  ): Promise<boolean> {
    const tagTtl = Math.max(ttlMs, this.tagTtlMs);
    try {
      const keys = [this.key('epoch'), this.key('clock')];
      for (const tag of tags) keys.push(this.key(`i:${tag}`), this.key(`t:${tag}`));
      const args = [this.prefix, id, json, ttlMs, mark.clock, mark.epoch, tagTtl];
      return (await this.redis.responseSet(...call(keys, args))) === 1;
    } catch (error) {
      this.log.debug({ err: (error as Error).message }, 'response cache write failed');
      return false;
    }
  }

  kept(request: string): Promise<boolean> {
    return this.writing.get(request) ?? Promise.resolve(false);
  }

  release(request: string): void {
    this.pending.delete(request);
    this.writing.delete(request);
  }

  invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return Promise.resolve();
    const done = this.invalidateNow([...new Set(tags)]);
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
    return done;
  }

  async settled(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  async flush(): Promise<void> {
    await this.redis.responseFlush(...call([this.key('clock'), this.key('epoch')], []));
    this.dirty = false;
  }

  /** Whether the owed flush is done (one at a time; a failed one is owed still). */
  private async flushOwed(): Promise<boolean> {
    this.flushing ??= this.flush()
      .catch((err: Error) => this.log.debug({ err: err.message }, 'flush failed'))
      .finally(() => (this.flushing = undefined));
    await this.flushing;
    return !this.dirty;
  }

  private async invalidateNow(tags: readonly string[]): Promise<void> {
    try {
      const keys = [this.key('clock')];
      for (const tag of tags) keys.push(this.key(`t:${tag}`), this.key(`i:${tag}`));
      await this.redis.responseInvalidate(...call(keys, [INVALIDATION_MEMORY_MS]));
    } catch (error) {
      this.dirty = true;
      const err = (error as Error).message;
      this.log.warn({ err }, 'invalidation failed; flushing when Redis is back');
    }
  }
}

/**
 * `prefix`: the deployment's (PUBSUB_PREFIX) plus `{rc}:` (one hash tag for the whole store).
 * `tagTtlMs`: the longest response TTL, which the tag sets outlive.
 */
export const createResponseStore = (
  client: RedisConnection,
  options: { prefix: string; tagTtlMs: number },
): ResponseStore => new RedisResponseStore(client, options.prefix, options.tagTtlMs);

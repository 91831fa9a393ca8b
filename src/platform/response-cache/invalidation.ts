// The response store on its own Redis connection, opened by every process with Redis (API or
// worker): the API processes cache answers in it, and every process drops from it what its
// services change (src/http/response-cache/changes.ts maps a change to what it drops).
import { closeRedisClient, createRedisClient, slotKeys, type RedisSource } from '../redis.js';
import { createResponseStore, type ResponseStore } from './store.js';

/**
 * A read, write or drop Redis has not answered by then fails: a hung Redis makes answers
 * uncached (and a drop refused marks the store dirty), it never holds a request up longer.
 */
const COMMAND_TIMEOUT_MS = 500;

export interface OpenedResponseStore {
  store: ResponseStore;
  close(): Promise<void>;
}

/**
 * The store under `<keyPrefix>{rc}:` (one hash tag: its scripts touch several keys at once).
 * `ttls`: the cache's TTLs (the tag sets outlive the longest).
 */
export async function openResponseStore(
  redis: RedisSource,
  keyPrefix: string,
  ttls: { ttlMs: number; ttlPerCoordinate: Record<string, number> },
): Promise<OpenedResponseStore> {
  const tagTtlMs = Math.max(ttls.ttlMs, ...Object.values(ttls.ttlPerCoordinate));
  const client = await createRedisClient(redis, 'response-cache', {
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
  });
  const store = createResponseStore(client, { prefix: slotKeys(keyPrefix, 'rc'), tagTtlMs });
  return {
    store,
    async close() {
      await store.settled();
      await closeRedisClient(client);
    },
  };
}

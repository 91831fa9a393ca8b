// What services and workers call once they have committed a change that cached responses may
// hold: the responses holding an entity, any entity of a type, or a root field's answers
// (lists, lookups by argument) are deleted from the shared store before the call returns, so
// a read that follows the change, in any API process, is answered anew. Without Redis there
// is no shared cache and nothing to do.
import type { Redis } from 'ioredis';
import { publicId } from '../public-ids.js';
import { closeRedisClient, createRedisClient } from '../redis.js';
import { createResponseStore, type ResponseStore } from './store.js';

export type CacheTarget =
  /** The responses holding this row (as the schema's type of that name). */
  | { type: string; rowId: string }
  /** The responses holding any row of the type. */
  | { type: string }
  /** Every answer of a root query field: what a new, deleted or moved row changes. */
  | { rootField: string };

/** A response's tag for an entity: its type and global id, as the schema writes it. */
export const entityTag = (typename: string, globalId: string | number) => `${typename}:${globalId}`;
export const rootFieldTag = (field: string) => `Query.${field}`;

function tagOf(target: CacheTarget): string {
  if ('rootField' in target) return rootFieldTag(target.rootField);
  if ('rowId' in target) return entityTag(target.type, publicId(target.type, target.rowId));
  return target.type;
}

/**
 * A read, write or drop Redis has not answered by then fails: a hung Redis makes answers
 * uncached (and a drop refused marks the store dirty), it never holds a request up longer.
 */
const COMMAND_TIMEOUT_MS = 500;

// The process's store, set once at start like db()'s client: a connection, not a setting.
let processStore: ResponseStore | undefined;

export function useResponseStore(store: ResponseStore | undefined): void {
  processStore = store;
}

export async function invalidateCachedResponses(targets: readonly CacheTarget[]): Promise<void> {
  if (!processStore || targets.length === 0) return;
  await processStore.invalidate(targets.map(tagOf));
}

export interface OpenedResponseStore {
  store: ResponseStore;
  close(): Promise<void>;
}

/**
 * The store on its own Redis connection, under `<keyPrefix>rc:`, and made this process's
 * invalidation target. `ttls`: the cache's TTLs (the tag sets outlive the longest).
 */
export async function openResponseStore(
  redisUrl: string,
  keyPrefix: string,
  ttls: { ttlMs: number; ttlPerCoordinate: Record<string, number> },
): Promise<OpenedResponseStore> {
  const tagTtlMs = Math.max(ttls.ttlMs, ...Object.values(ttls.ttlPerCoordinate));
  const client: Redis = await createRedisClient(redisUrl, 'response-cache', {
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
  });
  const store = createResponseStore(client, { prefix: `${keyPrefix}rc:`, tagTtlMs });
  useResponseStore(store);
  return {
    store,
    async close() {
      await store.settled();
      if (processStore === store) useResponseStore(undefined);
      await closeRedisClient(client);
    },
  };
}

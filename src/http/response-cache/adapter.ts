// The plugin's cache interface over our store (src/platform/response-cache). The plugin
// passes an id per request, `<key>#<request token>`: the key is shared by every request of
// the same view, the token tells the store which request's miss a write follows. Entities
// become tags: `Type` and `Type:<global id>`, plus the key's root fields.
import type { ExecutionResult } from 'graphql';
import type { Cache } from '@graphql-yoga/plugin-response-cache';
import { entityTag, rootFieldTag } from '../../platform/response-cache/invalidation.js';
import type { ResponseStore } from '../../platform/response-cache/store.js';
import { rootsOfKey } from './keys.js';

/** The id of a request that must not be looked up (mutations, anything not cached). */
export const NO_LOOKUP = '!';

interface Entity {
  typename: string;
  id?: string | number;
}

export const requestId = (key: string, token: string) => `${key}#${token}`;

function split(id: string): [key: string, token: string] {
  const at = id.lastIndexOf('#');
  return [id.slice(0, at), id.slice(at + 1)];
}

/**
 * `entityTypes`: the schema's object, interface and union types. The plugin also reports the
 * scalar type of a null field; no change is ever announced by a scalar's name.
 */
function tagsOf(entities: Iterable<Entity>, entityTypes: ReadonlySet<string>): string[] {
  const tags = new Set<string>();
  for (const { typename, id } of entities) {
    if (!entityTypes.has(typename)) continue;
    tags.add(typename);
    if (id !== undefined && id !== null) tags.add(entityTag(typename, id));
  }
  return [...tags];
}

export function storeAdapter(store: ResponseStore, entityTypes: ReadonlySet<string>): Cache {
  return {
    async get(id) {
      if (id === NO_LOOKUP) return undefined;
      const [key, token] = split(id);
      const json = await store.get(key, token);
      return json === undefined ? undefined : (JSON.parse(json) as ExecutionResult);
    },
    set(id, result, entities, ttl) {
      if (id === NO_LOOKUP || !Number.isFinite(ttl)) return;
      const [key, token] = split(id);
      const tags = [...tagsOf(entities, entityTypes), ...rootsOfKey(key).map(rootFieldTag)];
      // Not awaited by the plugin either: the response goes out while it is written.
      void store.set(key, token, JSON.stringify(result), tags, ttl);
    },
    invalidate(entities) {
      return store.invalidate(tagsOf(entities, entityTypes));
    },
  };
}

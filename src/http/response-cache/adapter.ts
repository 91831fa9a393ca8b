// The plugin's cache interface over our store (src/platform/response-cache). The plugin
// passes an id per request, `<key>#<request token>`: the key is shared by every request of
// the same view, the token tells the store which request's miss a write follows. Entities
// become tags: `Type` and `Type:<global id>`, plus the key's root fields.
import { isAbstractType, isCompositeType, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Cache } from '@graphql-yoga/plugin-response-cache';
import { entityTag, rootFieldTag } from './tags.js';
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
 * The schema's object, interface and union types, each with the types a change of which may
 * change an answer holding it: an object type itself; an interface or union, which the plugin
 * reports for a null field (`node(id:)` of a row not visible yet), also every type it may be.
 * The plugin also reports the scalar type of a null field; no change is announced by a scalar.
 */
export type EntityTypes = ReadonlyMap<string, readonly string[]>;

export function entityTypesOf(schema: GraphQLSchema): EntityTypes {
  const types = new Map<string, readonly string[]>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isCompositeType(type)) continue;
    const possible = isAbstractType(type) ? schema.getPossibleTypes(type).map((t) => t.name) : [];
    types.set(type.name, [type.name, ...possible]);
  }
  return types;
}

/** `expand`: tag an abstract type's answers with its possible types too (kept answers only). */
function tagsOf(entities: Iterable<Entity>, entityTypes: EntityTypes, expand: boolean): string[] {
  const tags = new Set<string>();
  for (const { typename, id } of entities) {
    const types = entityTypes.get(typename);
    if (!types) continue;
    for (const type of expand ? types : [typename]) tags.add(type);
    if (id !== undefined && id !== null) tags.add(entityTag(typename, id));
  }
  return [...tags];
}

export function storeAdapter(store: ResponseStore, entityTypes: EntityTypes): Cache {
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
      const tags = [...tagsOf(entities, entityTypes, true), ...rootsOfKey(key).map(rootFieldTag)];
      // Not awaited by the plugin either: the response goes out while it is written.
      void store.set(key, token, JSON.stringify(result), tags, ttl);
    },
    invalidate(entities) {
      return store.invalidate(tagsOf(entities, entityTypes, false));
    },
  };
}

// The live query store (@n1ru4l/in-memory-live-query-store, the graphql-live-query convention):
// a query marked `@live` is executed, the resource identifiers it read are tracked (`Agent:<id>`
// for each object with an id, `Query.agents` for each root field), and it runs again when one
// of them is invalidated, at most once per throttle (100 ms). On top of the library, here:
// - equal live queries share each execution (groups.ts);
// - every run gets a copy of the caller's context, so per-request caches start empty each time;
// - a row is tracked by any field read of it, its id selected or not, and by its type (`Agent`,
//   for changes of any row of a type);
// - only a live transport gets a stream (streamed below): yoga's JSON answer is one execution.
// docs/clients.md, "Live queries".
import { mapSchema, MapperKind } from '@graphql-tools/utils';
import { isLiveQueryOperationDefinitionNode } from '@n1ru4l/graphql-live-query';
import { InMemoryLiveQueryStore } from '@n1ru4l/in-memory-live-query-store';
import {
  getOperationAST,
  GraphQLError,
  isObjectType,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import { publicId } from '../../platform/public-ids.js';
import { MAX_LIVE_THROTTLE_MS } from '../../schema/input-bounds.js';
import type { Context } from '../../schema/builder.js';
import { entityTag } from '../response-cache/tags.js';
import { LiveGroups } from './groups.js';
import { visibilityKey } from './visibility.js';

/** The least time between two runs of one live query; a client may ask for more, up to MAX. */
export const LIVE_QUERY_THROTTLE_MS = 100;

type Execute = (args: ExecutionArgs) => unknown;

// Contexts of live queries a live transport runs (live/live-query.ts): only they get a stream.
const streamed = new WeakSet<object>();

/** Marks `context` as a live transport's, before its operation executes. */
export function streamLiveQuery(context: Context): void {
  streamed.add(context);
}

export function isLiveOperation(
  args: Pick<ExecutionArgs, 'document' | 'operationName'> & {
    variableValues?: ExecutionArgs['variableValues'];
  },
): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  return operation ? isLiveQueryOperationDefinitionNode(operation, args.variableValues) : false;
}

// The schema with what each field read names for the store, built once per schema.
const withIdentifiers = new WeakMap<GraphQLSchema, GraphQLSchema>();

// A row's names, once per row object (every field read of it asks).
const rowNames = new WeakMap<object, string[]>();

function namesOfRow(typeName: string, row: unknown): string[] | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  let names = rowNames.get(row);
  if (!names) {
    const { id } = row as { id?: unknown };
    if (typeof id !== 'string') return undefined;
    rowNames.set(row, (names = [typeName, entityTag(typeName, publicId(typeName, id))]));
  }
  return names;
}

/**
 * Any field read of a Node (a row) names the row and its type, whether the query selects its
 * `id` or not; an `id` of another type names the type (the store names `Type:<id>` itself).
 */
function withRowIdentifiers(schema: GraphQLSchema): GraphQLSchema {
  let mapped = withIdentifiers.get(schema);
  if (!mapped) {
    const isNode = (typeName: string) => {
      const type = schema.getType(typeName);
      return isObjectType(type) && type.getInterfaces().some((each) => each.name === 'Node');
    };
    // The store reads `extensions.liveQuery.collectResourceIdentifiers` of every field it resolves.
    const collect = (typeName: string, fieldName: string) =>
      isNode(typeName)
        ? (row: unknown) => namesOfRow(typeName, row)
        : fieldName === 'id'
          ? () => typeName
          : undefined;
    mapped = mapSchema(schema, {
      [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
        const collectResourceIdentifiers = collect(typeName, fieldName);
        return collectResourceIdentifiers
          ? {
              ...field,
              extensions: { ...field.extensions, liveQuery: { collectResourceIdentifiers } },
            }
          : field;
      },
    });
    withIdentifiers.set(schema, mapped);
  }
  return mapped;
}

/**
 * The store hands each run the caller's context under a symbol of its own: each run gets a
 * copy of it (Pothos's caches and the batches of src/services live on the context object).
 */
function freshContext(storeContext: Record<symbol, unknown>): void {
  for (const symbol of Object.getOwnPropertySymbols(storeContext))
    if (symbol.description === 'originalContext')
      storeContext[symbol] = { ...(storeContext[symbol] as object) };
}

export interface LiveQueryStoreOptions {
  /** LIVE_QUERY_THROTTLE_MS unless given. */
  throttleMs?: number;
  /** Told of every execution of a live query (its first and every run again). */
  executed(): void;
}

export class LiveQueryStore extends InMemoryLiveQueryStore {
  constructor(options: LiveQueryStoreOptions) {
    const least = options.throttleMs ?? LIVE_QUERY_THROTTLE_MS;
    super({
      // Not in results, whatever NODE_ENV says: what a query read is the server's business.
      includeIdentifierExtension: false,
      // `@live(throttle: ms)` may ask for more time between runs, never less.
      validateThrottleValue: (asked) => Math.min(Math.max(asked ?? 0, least), MAX_LIVE_THROTTLE_MS),
    });
    const makeLiveExecute = this.makeExecute;
    const groups = new LiveGroups();
    this.makeExecute = (execute) => {
      const run: Execute = (args) => {
        options.executed();
        freshContext(args.contextValue as Record<symbol, unknown>);
        try {
          return execute(args as never);
        } catch (error) {
          // Never thrown out of the store: its invalidate runs every query's run in one loop.
          // (Not a GraphQLError: masked as INTERNAL_SERVER_ERROR, its cause logged.)
          const cause = error instanceof Error ? error : new Error(String(error));
          return {
            errors: [
              error instanceof GraphQLError
                ? error
                : new GraphQLError(cause.message, { originalError: cause }),
            ],
          };
        }
      };
      const liveExecute = makeLiveExecute(run as never);
      return (args) => {
        const context = args.contextValue as Context;
        if (!streamed.has(context) || !isLiveOperation(args)) return execute(args);
        const key =
          `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n` +
          visibilityKey(context.caller);
        return groups.follow(args.document, key, () =>
          liveExecute({ ...args, schema: withRowIdentifiers(args.schema) }),
        ) as never;
      };
    };
  }
}

// The query response cache (RESPONSE_CACHE): graphql-yoga's response-cache plugin on our
// Redis store, keyed per caller's view (keys.ts). A query is looked up before it is parsed;
// a miss executes and keeps the response, tagged with the entities, types and root fields it
// holds, for the least TTL of the types in it. Changes drop what they touch: the plugin drops
// the entities a mutation returns, and every service drops what it changed once committed
// (src/platform/response-cache/invalidation.ts), workers too. Answers say `X-Cache: HIT` or
// `MISS` and `extensions.responseCache`. Only JSON answers of queries are cached: never
// subscriptions, event streams, multipart, @defer/@stream (looked up nor kept: they run),
// @live or introspection.
import { getNamedType, type GraphQLSchema } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Registry } from 'prom-client';
import type { ResponseStore } from '../../platform/response-cache/store.js';
import { callerOf, type ContextOptions } from '../context.js';
import { mayStream, negotiate } from '../negotiation.js';
import { entityTypesOf, NO_LOOKUP, requestId, storeAdapter } from './adapter.js';
import { responseKey, sessionOf } from './keys.js';
import { createResponseCacheMetrics } from './metrics.js';
import { createShapeReader, type OperationShape } from './operation.js';
import { reportOutcome } from './report.js';

/**
 * What is never cached, or briefly (ms), before RESPONSE_CACHE_TTL_PER_TYPE: tasks and the
 * queue are live, and so are workflows (their steps are tasks), LLM calls and what sums them
 * (usage, budgets' spending) and routing (cooldowns, latency); keys change on every use
 * (lastUsedAt) and the viewer is the key itself; `Agent.coverage` computes and records a
 * history entry on every read; a topic moves while it is generated; presence changes with
 * every join and leave, which no domain change announces.
 */
export const DEFAULT_TTL_PER_COORDINATE: Readonly<Record<string, number>> = {
  Task: 0,
  TaskConnection: 0,
  TaskEvent: 0,
  WebhookDelivery: 0,
  QueueStats: 0,
  Workflow: 0,
  WorkflowConnection: 0,
  WorkflowStep: 0,
  WorkflowEvent: 0,
  LlmCall: 0,
  LlmCallConnection: 0,
  LlmUsageRow: 0,
  Budget: 0,
  RoutingSnapshot: 0,
  ProviderKey: 0,
  ApiKey: 0,
  Viewer: 0,
  'Agent.coverage': 0,
  PresenceMember: 0,
  Topic: 5_000,
};

export interface ResponseCacheOptions {
  store: ResponseStore;
  /** A response's TTL when no type in it says less. */
  ttlMs: number;
  /** Over DEFAULT_TTL_PER_COORDINATE: `Type` or `Type.field` → ms, 0 never cached. */
  ttlPerCoordinate?: Record<string, number>;
}

export type Decision =
  { kind: 'cache'; token: string; key: string } | { kind: 'mutation' | 'skip'; token: string };

/** Root fields never cached: their own TTL, or their type's, is 0. */
function excludedRootFields(schema: GraphQLSchema, ttl: Record<string, number>): Set<string> {
  const fields = Object.values(schema.getQueryType()?.getFields() ?? {});
  return new Set(
    fields
      .filter((f) => ttl[`Query.${f.name}`] === 0 || ttl[getNamedType(f.type).name] === 0)
      .map((f) => f.name),
  );
}

const answersJson = (accept: string | null) => {
  if (!mayStream(accept)) return true;
  const chosen = negotiate(accept, 'single');
  return chosen === 'json' || chosen === 'graphql-response+json';
};

function cacheable(shape: OperationShape | null, excluded: Set<string>): boolean {
  return (
    shape?.kind === 'query' &&
    !shape.incremental &&
    !shape.live &&
    !shape.introspection &&
    shape.roots.length > 0 &&
    shape.roots.every((root) => !excluded.has(root))
  );
}

type ShapeReader = ReturnType<typeof createShapeReader>;

/** Decided once per request, before the plugin looks anything up. */
function decider(
  decisions: WeakMap<Request, Decision>,
  readShape: ShapeReader,
  excluded: Set<string>,
  contextOptions: ContextOptions,
): Plugin {
  let sequence = 0;
  return {
    async onParams({ request, params }) {
      const shape = readShape(params);
      const token = String(++sequence);
      if (shape?.kind === 'mutation')
        return void decisions.set(request, { kind: 'mutation', token });
      const caller =
        cacheable(shape, excluded) && answersJson(request.headers.get('accept'))
          ? await callerOf(request, contextOptions)
          : undefined;
      // No valid key: not looked up (the request is refused before it runs).
      decisions.set(
        request,
        caller
          ? { kind: 'cache', token, key: responseKey(shape!, params, sessionOf(caller)) }
          : { kind: 'skip', token },
      );
    },
  };
}

/** X-Cache, extensions.responseCache and the counters; a mutation's answer waits for its drops. */
function reporter(
  decisions: WeakMap<Request, Decision>,
  store: ResponseStore,
  registry: Registry,
): Plugin {
  const metrics = createResponseCacheMetrics(registry);
  const outcomes = new WeakMap<Request, 'HIT' | 'MISS'>();
  return {
    async onExecutionResult({ request, result, setResult }) {
      const decision = decisions.get(request);
      if (!decision || !result) return;
      if (isAsyncIterable(result)) {
        // An incremental mutation (@defer): the plugin drops its entities once its last payload
        // is known, and that payload waits for the drops, as a whole answer does.
        if (decision.kind === 'mutation')
          setResult(
            mapAsyncIterator(result, async (payload) => {
              if (payload.hasNext === false) await store.settled();
              return payload;
            }),
          );
        return;
      }
      // A miss's answer waits for its write (one Redis round trip, at most the store's
      // command timeout): didCache says whether it was kept.
      const kept = await store.kept(decision.token);
      store.release(decision.token);
      const outcome = reportOutcome(decision.kind, result, setResult, kept);
      if (outcome) {
        outcomes.set(request, outcome);
        if (outcome === 'HIT') metrics.hit();
        else metrics.miss();
      }
      // The plugin drops a mutation's entities without waiting: its answer waits for that.
      if (decision.kind === 'mutation') await store.settled();
    },
    onResponse({ request, response }) {
      const outcome = outcomes.get(request);
      if (outcome) response.headers.set('x-cache', outcome);
    },
  };
}

export function responseCachePlugins(
  options: ResponseCacheOptions,
  app: { schema: GraphQLSchema; contextOptions: ContextOptions; registry: Registry },
): { plugins: Plugin[]; mayStore: (request: Request) => boolean } {
  const ttlPerSchemaCoordinate = { ...DEFAULT_TTL_PER_COORDINATE, ...options.ttlPerCoordinate };
  const excluded = excludedRootFields(app.schema, ttlPerSchemaCoordinate);
  const entityTypes = entityTypesOf(app.schema);
  const readShape = createShapeReader();
  const decisions = new WeakMap<Request, Decision>();
  const cache = useResponseCache({
    cache: storeAdapter(options.store, entityTypes),
    ttl: options.ttlMs,
    ttlPerSchemaCoordinate,
    session: () => null, // in the key already (buildResponseCacheKey)
    buildResponseCacheKey: ({ request }) => {
      const decision = decisions.get(request);
      return decision?.kind === 'cache' ? requestId(decision.key, decision.token) : NO_LOOKUP;
    },
    // Mutations everywhere (their results drop entities); queries only as decided above.
    // graphql-ws runs operations without yoga's params step: its mutations only.
    enabled: (request, context) => {
      const decision = request && decisions.get(request);
      if (decision) return decision.kind !== 'skip';
      return readShape(context?.params)?.kind === 'mutation';
    },
    shouldCacheResult: ({ result }) => !result.errors?.length,
    includeExtensionMetadata: true,
  });
  return {
    plugins: [
      decider(decisions, readShape, excluded, app.contextOptions),
      cache,
      reporter(decisions, options.store, app.registry),
    ],
    /** Whether the request's answer may be stored (read routing keeps those on the primary). */
    mayStore: (request) => decisions.get(request)?.kind === 'cache',
  };
}

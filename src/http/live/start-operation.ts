// Starting one GraphQL operation for a live transport, once prepared-operation.ts has prepared
// it; queries and mutations execute in envelop. Subscriptions skip envelop's per-event
// result mapping (costly in a fan-out): their source is a feed (src/feeds) observed by the
// transport's OperationResults, which share each event's result with equal subscriptions.
// A live query (`@live`) runs on the live query store (live-query.ts).
import { context, type Span } from '@opentelemetry/api';
import {
  createSourceEventStream,
  getOperationAST,
  GraphQLError,
  type ExecutionResult,
} from 'graphql';
import { isPushFeed, iteratorFeed, observeFeed } from '../../feeds/push-feed.js';
import type { Context } from '../../schema/builder.js';
import { markErrors, nameOperationSpan, startOperationSpan } from '../tracing/operation-span.js';
import type { LiveCore, OperationParams } from './core.js';
import { startLiveQuery } from './live-query.js';
import { errorJson, joinGroup, toJson, type OperationResults } from './operation-results.js';
import {
  prepareOperation,
  refusedForUnavailable,
  requestErrors,
  type OperationStart,
  type PreparedOperation,
} from './prepare-operation.js';
import { isLiveOperation } from '../live-query/store.js';
import { visibilityKey } from '../live-query/visibility.js';

/**
 * What besides the document and the event decides a subscription's result: computed once per
 * subscription. The caller as live queries group it (the key, not only its user: a key's team,
 * budgets and signed links are in some results).
 */
function groupKey(params: OperationParams, context: Context): string {
  return (
    `${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? {})}\n` +
    visibilityKey(context.caller)
  );
}

/** Prepares and starts an operation, sending its results to the transport's `results`. */
export async function startOperation(
  live: LiveCore,
  request: Request,
  params: OperationParams,
  results: OperationResults,
): Promise<OperationStart> {
  if (!live.tracing) return runOperation(live, request, params, results);
  // Traced: a span from the request until the result is sent, or the subscription started.
  const { span, context: active } = startOperationSpan(request);
  return context.with(active, async () => {
    try {
      const start = await runOperation(live, request, params, results, span);
      if (start.kind === 'refused') markErrors(span, start.errors.length);
      return start;
    } finally {
      span.end();
    }
  });
}

const operationNameOf = ({ document, args }: PreparedOperation) =>
  getOperationAST(document, args.operationName)?.name?.value;

async function runOperation(
  live: LiveCore,
  request: Request,
  params: OperationParams,
  results: OperationResults,
  span?: Span,
): Promise<OperationStart> {
  const prepared = await prepareOperation(live, request, params);
  if (prepared.kind === 'refused') return prepared;
  const { type } = prepared;
  if (span) nameOperationSpan(span, type, operationNameOf(prepared));
  // `@live`: run on the live query store, its results sent as a subscription's (live-query.ts).
  if (type === 'query' && isLiveOperation(prepared.args))
    return startLiveQuery(live, prepared, results);
  if (type !== 'subscription') {
    // Stopped by its client (graphql-ws' `complete`, graphql-sse's DELETE or a closed stream),
    // an incremental operation's deferred fields stop what they still compute (Context.signal).
    const stopping = new AbortController();
    const context = prepared.args.contextValue;
    context.signal = context.signal
      ? AbortSignal.any([context.signal, stopping.signal])
      : stopping.signal;
    const result = await prepared.execute(prepared.args);
    if (isAsyncIterable(result))
      return streamResults(result, results, type, () => stopping.abort());
    const unavailable = refusedForUnavailable(live, (result as ExecutionResult).errors, true);
    if (unavailable) return unavailable;
    // One result, without the `http` hints yoga's masking leaves for a response's status
    // (a 429's Retry-After).
    results.send(toJson(result as ExecutionResult));
    results.complete();
    return { kind: 'running', stop: () => {}, type };
  }
  return startSubscription(live, params, prepared, results);
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * A query or mutation that answers in several results (`@defer`, `@stream`: the first result,
 * then incremental ones until `hasNext` is false): each is sent as it comes, as graphql-sse and
 * graphql-ws carry incremental delivery (one `next` per payload). `stop` ends its execution
 * (and calls `stopped`).
 */
function streamResults(
  source: AsyncIterable<ExecutionResult>,
  results: OperationResults,
  type: 'query' | 'mutation',
  stopped: () => void,
): OperationStart {
  const iterator = source[Symbol.asyncIterator]();
  let stopping = false;
  void (async () => {
    try {
      for (let next = await iterator.next(); !next.done && !stopping; next = await iterator.next())
        results.send(toJson(next.value));
    } catch (error) {
      if (!stopping) results.send(errorJson(error));
    } finally {
      results.complete();
    }
  })();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    stopped();
    void iterator.return?.();
  };
  return { kind: 'running', stop, type };
}

/** Queries and mutations are counted by the metrics plugin (envelop's execute); subscriptions here. */
async function startSubscription(
  live: LiveCore,
  params: OperationParams,
  { args, document }: PreparedOperation,
  results: OperationResults,
): Promise<OperationStart> {
  // The cap on a key's open subscriptions (MAX_OPEN_SUBSCRIPTIONS_PER_KEY), before it starts.
  const slot = live.rateLimits?.openSubscription(args.contextValue.caller, 'subscription');
  if (slot instanceof GraphQLError) {
    const errors = requestErrors([slot]);
    live.metrics.errors(errors);
    return { kind: 'refused', status: 429, errors };
  }
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) {
    // The subscribe resolver refused (an unknown id, a missing scope): its errors are the one
    // result; PostgreSQL away, a refusal before the stream opens.
    slot?.release();
    live.metrics.operation('subscription', 'error');
    const unavailable = refusedForUnavailable(live, source.errors, false);
    if (unavailable) return unavailable;
    live.metrics.errors(source.errors ?? []);
    results.send(toJson(source));
    results.complete();
    return { kind: 'running', stop: () => {}, type: 'subscription' };
  }
  live.metrics.operation('subscription', 'ok');
  const { transport } = results;
  live.metrics.subscriptionStarted(transport);
  results.shareWith(joinGroup(document, groupKey(params, args.contextValue)), args, () => {
    live.metrics.subscriptionEnded(transport);
    slot?.release();
  });
  const feed = isPushFeed(source)
    ? source
    : iteratorFeed((source as AsyncIterable<unknown>)[Symbol.asyncIterator]());
  const stopFeed = feed[observeFeed](results);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    results.leaveGroup();
    stopFeed();
  };
  // A key revoked, or its user's rights narrowed, while the stream is open ends it.
  live.streamGuard.guard({ args, results, stop });
  return { kind: 'running', type: 'subscription', stop };
}

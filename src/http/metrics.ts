// The API's Prometheus metrics at /metrics: HTTP requests (http-metrics.ts), GraphQL
// operations by type and outcome, errors by code, open event streams and subscriptions, and
// the task queue (queue-gauges.ts). Labels are bounded on purpose: no operation names or URLs,
// which clients choose. Not yoga's prometheus plugin, because its default labels are those.
import type { GraphQLError, OperationTypeNode } from 'graphql';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ErrorCode } from '../platform/errors.js';
import { errorCodeOf } from '../schema/errors.js';
import { httpMetricsPlugin } from './http-metrics.js';
import type { LiveMetrics, Transport } from './live/core.js';
import { registerQueueGauges } from './queue-gauges.js';

export interface ApiMetrics {
  /** Counts GraphQL operations and their errors (over HTTP, and what the live transports run through envelop). */
  plugin: Plugin;
  /** Counts HTTP requests by route and status: the first plugin, so it times the others too. */
  http: Plugin;
  /** Open streams and connections of the live transports, and the subscriptions they start. */
  live: LiveMetrics;
}

// The contract's codes plus yoga's own request errors; anything else is counted as OTHER.
const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

const codeOf = (error: GraphQLError) => {
  const code = errorCodeOf(error);
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'OTHER';
};

type Labelled = { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null };
const operationType = (args: Labelled): OperationTypeNode | 'unknown' =>
  getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';

/** Adds the API's metrics to the process's registry. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  registerQueueGauges(registry);
  const open: Record<Transport, Gauge> = {
    sse: new Gauge({
      name: 'graphql_sse_streams_open',
      help: 'Open graphql-sse event streams (a reservation counts).',
      registers: [registry],
    }),
    multipart: new Gauge({
      name: 'graphql_multipart_streams_open',
      help: 'Open multipart subscription responses.',
      registers: [registry],
    }),
    ws: new Gauge({
      name: 'graphql_ws_connections_open',
      help: 'Open graphql-ws WebSocket connections.',
      registers: [registry],
    }),
  };
  const subscriptions = new Gauge({
    name: 'graphql_subscriptions_open',
    help:
      'Subscriptions running, by transport (sse, ws, multipart): a WebSocket or a ' +
      'single-connection event stream carries several.',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const liveQueries = new Gauge({
    name: 'graphql_live_queries_open',
    help: 'Live queries (@live) running, by transport (sse, ws, multipart).',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const counters = graphqlCounters(registry);
  const { operations, errors } = counters;
  return {
    plugin: metricsPlugin(counters),
    http: httpMetricsPlugin(registry),
    live: {
      opened: (transport) => open[transport].inc(),
      closed: (transport) => open[transport].dec(),
      operation: (type, outcome) => operations.inc({ type, outcome }),
      errors: (list) => list.forEach((error) => errors.inc({ code: codeOf(error) })),
      subscriptionStarted: (transport) => subscriptions.inc({ transport }),
      subscriptionEnded: (transport) => subscriptions.dec({ transport }),
      liveQueryStarted: (transport) => liveQueries.inc({ transport }),
      liveQueryEnded: (transport) => liveQueries.dec({ transport }),
    },
  };
}

function graphqlCounters(registry: Registry) {
  const operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations executed or subscribed, by type and outcome (error: the result carried errors).',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'graphql_execution_duration_seconds',
    help: 'Time to execute a query or mutation (after parse and validation).',
    labelNames: ['type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help:
      'GraphQL errors answered, by extensions.code (parse and validation failures, and ' +
      'requests refused before execution, included).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  return { operations, duration, errors };
}

/**
 * Requests whose errors the envelop hooks count, by their context's request (none on the live
 * transports' own endpoints).
 */
function countedRequests() {
  const counted = new WeakSet<Request>();
  return {
    add(context: unknown) {
      const request = (context as { request?: Request } | undefined)?.request;
      if (request) counted.add(request);
    },
    has: (request: Request) => counted.has(request),
  };
}

/**
 * Counts what envelop parses, validates, executes and subscribes; and, as yoga answers, the
 * errors of a request refused before or between those steps (a trusted document refused, a
 * document with no operation to run, no valid key, a rate limit).
 */
/** A payload after the first of an incremental result (@defer, @stream). */
interface IncrementalPayload {
  incremental?: ReadonlyArray<{ errors?: readonly GraphQLError[] }>;
}

function metricsPlugin({ operations, duration, errors }: ReturnType<typeof graphqlCounters>) {
  const countErrors = (list: readonly GraphQLError[] | undefined) =>
    list?.forEach((error) => errors.inc({ code: codeOf(error) }));
  // Requests whose errors the envelop hooks below count: their answer is not counted again.
  const counted = countedRequests();
  const plugin: Plugin = {
    onParse:
      () =>
      ({ result, context }) => {
        if (!(result instanceof Error)) return;
        counted.add(context);
        errors.inc({ code: 'GRAPHQL_PARSE_FAILED' });
      },
    // graphql-js's own rules carry no code yet (yoga adds it later); the operation limits' do.
    onValidate:
      ({ context }) =>
      ({ result }) => {
        if (result.length) counted.add(context);
        for (const error of result)
          errors.inc({
            code: error.extensions?.code ? codeOf(error) : 'GRAPHQL_VALIDATION_FAILED',
          });
      },
    onExecute({ args }) {
      counted.add(args.contextValue);
      const type = operationType(args);
      const end = duration.startTimer({ type });
      return {
        onExecuteDone({ result }) {
          end(); // for @defer or @stream: until the first payload
          if (!(Symbol.asyncIterator in result)) {
            operations.inc({ type, outcome: result.errors?.length ? 'error' : 'ok' });
            return countErrors(result.errors);
          }
          // Incremental: its errors as each payload carries them, its outcome once it ends.
          let failed = false;
          return {
            onNext({ result: payload }) {
              const errors = [
                ...(payload.errors ?? []),
                ...((payload as IncrementalPayload).incremental ?? []).flatMap(
                  (part) => part.errors ?? [],
                ),
              ];
              failed ||= errors.length > 0;
              countErrors(errors);
            },
            onEnd() {
              operations.inc({ type, outcome: failed ? 'error' : 'ok' });
            },
          };
        },
      };
    },
    onSubscribe({ args }) {
      counted.add(args.contextValue);
      return {
        onSubscribeResult({ result }) {
          // An async iterable is a started subscription; an execution result is a refusal.
          const errorsOf = Symbol.asyncIterator in result ? undefined : result.errors;
          operations.inc({ type: operationType(args), outcome: errorsOf?.length ? 'error' : 'ok' });
          countErrors(errorsOf);
        },
        onSubscribeError() {
          operations.inc({ type: operationType(args), outcome: 'error' });
        },
      };
    },
    // Every answer yoga gives passes here, errors thrown before envelop's steps included.
    onResultProcess({ request, result }) {
      if (counted.has(request) || Symbol.asyncIterator in result) return;
      for (const each of Array.isArray(result) ? result : [result]) countErrors(each.errors);
    },
  };
  return plugin;
}

// Prometheus metrics at /metrics (prom-client, one registry per app): Node's process metrics,
// GraphQL operations by type and outcome, errors by code, open event streams, and the task
// queue read from PostgreSQL at scrape time (the queue's state lives there, so every API
// process reports the same numbers). Labels are bounded on purpose: no operation names or
// URLs, which clients choose. Not yoga's prometheus plugin, because its default labels are those.
import type { GraphQLError, OperationTypeNode } from 'graphql';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode } from './errors.js';
import { queueStats } from './resolvers/tasks.js';

export interface Metrics {
  registry: Registry;
  /** Counts GraphQL operations and their errors (HTTP and graphql-sse alike). */
  plugin: Plugin;
  streamOpened(): void;
  streamClosed(): void;
}

// The contract's codes plus yoga's own request errors; anything else is counted as OTHER.
const KNOWN_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timeout', 'dead'] as const;

const codeOf = (error: GraphQLError) => {
  const code = error.extensions?.code;
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'OTHER';
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

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
    help: 'GraphQL errors in results, by extensions.code (parse and validation failures included).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const streams = new Gauge({ name: 'graphql_sse_streams_open', help: 'Open graphql-sse event streams (a reservation counts).', registers: [registry] });

  // The three queue gauges share one query per scrape (prom-client collects them concurrently).
  let reading: ReturnType<typeof queueStats> | undefined;
  const readQueue = () => (reading ??= queueStats().finally(() => setImmediate(() => (reading = undefined))));
  new Gauge({
    name: 'tasks',
    help: 'Background tasks by status, read from PostgreSQL at scrape time.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const stats = await readQueue();
      for (const status of TASK_STATUSES) this.set({ status }, stats[status]);
    },
  });
  new Gauge({
    name: 'tasks_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING task, 0 when none waits.',
    registers: [registry],
    async collect() {
      this.set((await readQueue()).oldestPendingAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'task_workers_alive',
    help: 'Workers with a heartbeat in the last 15 s.',
    registers: [registry],
    async collect() {
      this.set((await readQueue()).workersAlive);
    },
  });

  const countErrors = (list: readonly GraphQLError[] | undefined) => list?.forEach((error) => errors.inc({ code: codeOf(error) }));
  const typeOf = (args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }): OperationTypeNode | 'unknown' =>
    getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';

  const plugin: Plugin = {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) errors.inc({ code: 'GRAPHQL_PARSE_FAILED' });
      };
    },
    onValidate() {
      return ({ result }) => {
        // graphql-js's own rules carry no code yet (yoga adds it later); the operation limits' do.
        for (const error of result) errors.inc({ code: error.extensions?.code ? codeOf(error) : 'GRAPHQL_VALIDATION_FAILED' });
      };
    },
    onExecute({ args }) {
      const type = typeOf(args);
      const end = duration.startTimer({ type });
      return {
        onExecuteDone({ result }) {
          end();
          if (Symbol.asyncIterator in result) return; // an incremental result (@defer, not used here)
          operations.inc({ type, outcome: result.errors?.length ? 'error' : 'ok' });
          countErrors(result.errors);
        },
      };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result }) {
          // An async iterable is a started subscription; an execution result is a refusal.
          const errorsOf = Symbol.asyncIterator in result ? undefined : result.errors;
          operations.inc({ type: typeOf(args), outcome: errorsOf?.length ? 'error' : 'ok' });
          countErrors(errorsOf);
        },
        onSubscribeError() {
          operations.inc({ type: typeOf(args), outcome: 'error' });
        },
      };
    },
  };

  return { registry, plugin, streamOpened: () => streams.inc(), streamClosed: () => streams.dec() };
}

// OpenTelemetry traces, exported over OTLP/HTTP (JSON) when OTEL_EXPORTER_OTLP_ENDPOINT is
// set. Unset, no SDK is even loaded: @opentelemetry/api's no-op tracer and propagator answer
// every call below. Spans: GraphQL operations (src/http/tracing), every SQL statement
// (@prisma/instrumentation: Prisma's own spans, db_query carrying the statement's text with
// its values as parameters) and task attempts (taskAttemptSpan), whose parent is the span that
// enqueued the task (its W3C traceparent is stored on the task row).
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-node';

export interface TracingConfig {
  /** OTLP/HTTP base URL; traces go to its /v1/traces (unset: no tracing at all). */
  endpoint: string | undefined;
  /** OTEL_SERVICE_NAME; default agent-growth-api, agent-growth-worker or agent-growth (ROLE=all). */
  serviceName: string | undefined;
}

export type StopTracing = () => Promise<void>;

/** Whether startTracing registered the SDK in this process. */
let tracing = false;
export const tracingEnabled = () => tracing;

/** Starts the SDK (when configured): first in the process, so every later span is recorded. */
export async function startTracing(config: TracingConfig, role: string): Promise<StopTracing> {
  if (!config.endpoint) return async () => {};
  const [sdk, exporter, resources, prisma] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@prisma/instrumentation'),
  ]);
  const base = config.endpoint.endsWith('/') ? config.endpoint : `${config.endpoint}/`;
  // Statements outside an operation or an attempt (the worker's polls, heartbeats and
  // maintenance, several a second) would each be a trace of their own: not recorded.
  const root: Sampler = {
    shouldSample: (_context, _traceId, name) => ({
      decision: name.startsWith('prisma:')
        ? sdk.SamplingDecision.NOT_RECORD
        : sdk.SamplingDecision.RECORD_AND_SAMPLED,
    }),
    toString: () => 'OperationsAndAttempts',
  };
  const provider = new sdk.NodeTracerProvider({
    sampler: new sdk.ParentBasedSampler({ root }),
    resource: resources.resourceFromAttributes({
      'service.name':
        config.serviceName ?? (role === 'all' ? 'agent-growth' : `agent-growth-${role}`),
    }),
    spanProcessors: [
      new sdk.BatchSpanProcessor(
        new exporter.OTLPTraceExporter({ url: new URL('v1/traces', base).toString() }),
      ),
    ],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  tracing = true;
  prisma.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new prisma.PrismaInstrumentation()],
  });
  // Last of the stops: the spans of the shutdown itself are sent too.
  return () => provider.shutdown();
}

/** Our spans' tracer (a no-op one until startTracing registered the SDK). */
export const tracer = () => trace.getTracer('agent-growth');

/** The active span's W3C traceparent, stored with a task it enqueues; null without tracing. */
export function currentTraceParent(): string | null {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

export interface TracedTask {
  id: string;
  type: string;
  attempts: number;
  traceParent: string | null;
}

/**
 * Runs one attempt of a task in its span, a child of the span that enqueued it (a parent, not
 * a link: one request causes the task, so one trace tells the whole story, each attempt a
 * sibling under the enqueuing operation).
 */
export function taskAttemptSpan<T>(task: TracedTask, run: () => Promise<T>): Promise<T> {
  // Without tracing, no no-op span and context per attempt (about 2 % of a busy worker's CPU).
  if (!tracing) return run();
  const parent = task.traceParent
    ? propagation.extract(ROOT_CONTEXT, { traceparent: task.traceParent })
    : ROOT_CONTEXT;
  const attributes = { 'task.id': task.id, 'task.type': task.type, 'task.attempt': task.attempts };
  const options = { kind: SpanKind.CONSUMER, attributes };
  return tracer().startActiveSpan(`task ${task.type}`, options, parent, async (span) => {
    try {
      return await run();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Notes how the current attempt ended on its span (no-op without tracing). */
export function noteTaskOutcome(outcome: string): void {
  const span = trace.getActiveSpan();
  span?.setAttribute('task.outcome', outcome);
  if (outcome !== 'completed') span?.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
}

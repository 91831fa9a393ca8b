// OpenTelemetry spans for GraphQL over HTTP, through yoga's and envelop's instrumentation
// (each wraps a phase, so the span is active while it runs and the SQL statements the
// resolvers send are its children): the operation, then parse, validate and execute (or
// subscribe). Only installed with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT). Written on the
// instrumentation API rather than @envelop/opentelemetry, which pulls the 1.x SDK and leaves
// the parse and validate phases outside its spans.
import { SpanStatusCode, context, type Span } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { tracer } from '../../platform/tracing.js';
import { markErrors, nameOperationSpan, startOperationSpan } from './operation-span.js';

/** Runs a phase in its span (a child of the active one). */
function phase<T>(name: string, wrapped: () => T): T {
  return tracer().startActiveSpan(name, (span) => {
    try {
      const result = wrapped();
      if (result instanceof Promise) return result.finally(() => span.end()) as T;
      span.end();
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
  });
}

/** Names the operation's span from the document about to run (its context: the request's). */
function nameFrom(
  spans: WeakMap<Request, Span>,
  args: { document: DocumentNode; operationName?: string | null; contextValue: unknown },
): void {
  const request = (args.contextValue as { request?: Request }).request;
  const span = request && spans.get(request);
  const operation = span && getOperationAST(args.document, args.operationName);
  if (operation) nameOperationSpan(span, operation.operation, operation.name?.value);
}

export function tracingPlugin(): Plugin {
  const spans = new WeakMap<Request, Span>();
  return {
    instrumentation: {
      operation: ({ request }, wrapped) => {
        const { span, context: active } = startOperationSpan(request);
        spans.set(request, span);
        return context.with(active, async () => {
          try {
            await wrapped();
          } finally {
            spans.delete(request);
            span.end();
          }
        });
      },
      parse: (_payload, wrapped) => phase('graphql.parse', wrapped),
      validate: (_payload, wrapped) => phase('graphql.validate', wrapped),
      execute: (_payload, wrapped) => phase('graphql.execute', wrapped),
      subscribe: (_payload, wrapped) => phase('graphql.subscribe', wrapped),
    },
    onExecute: ({ args }) => nameFrom(spans, args),
    onSubscribe: ({ args }) => nameFrom(spans, args),
    onExecutionResult: ({ result, context: yogaContext }) => {
      const errors = result && 'errors' in result ? (result.errors?.length ?? 0) : 0;
      const span = errors ? spans.get(yogaContext.request) : undefined;
      if (span) markErrors(span, errors);
    },
  };
}

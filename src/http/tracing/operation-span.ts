// The span of one GraphQL operation (OpenTelemetry's GraphQL conventions: named
// "<type> <name>", with graphql.operation.type and .name; never the variables' values or the
// document, which may hold values inline). It continues a caller's W3C traceparent header.
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context as OtelContext,
  type Span,
} from '@opentelemetry/api';
import { tracer } from '../../platform/tracing.js';

const headerGetter = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

/** A SERVER span for an operation of `request`, and the context it is active in. */
export function startOperationSpan(request: Request): { span: Span; context: OtelContext } {
  const parent = propagation.extract(context.active(), request.headers, headerGetter);
  const span = tracer().startSpan('graphql operation', { kind: SpanKind.SERVER }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Names the span once the operation is known. */
export function nameOperationSpan(span: Span, type: string, name: string | null | undefined): void {
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute('graphql.operation.type', type);
  if (name) span.setAttribute('graphql.operation.name', name);
}

/** The operation answered with errors (its span stays for the caller to end). */
export function markErrors(span: Span, errors: number): void {
  span.setAttribute('graphql.errors', errors);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

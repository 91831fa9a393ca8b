// What every live transport (graphql-sse, multipart, graphql-ws) is built on: the yoga app
// whose envelop pipeline prepares operations, the context every request gets, and the limits
// and metrics they share.
import type { GraphQLError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../../schema/builder.js';
import type { ContextOptions } from '../context.js';
import type { RateLimits } from '../rate-limit/limits.js';
import type { StreamGuard } from './stream-guard.js';
import type { TrustedDocuments } from '../trusted-documents/policy.js';

export type Yoga = YogaServerInstance<Record<string, never>, Context>;

/**
 * An operation as a transport received it (GraphQL over HTTP's request parameters): its
 * document, or a trusted document's id (`documentId` or extensions.persistedQuery).
 */
export interface OperationParams {
  query?: string | null;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  documentId?: string | null;
  extensions?: Record<string, unknown> | null;
}

export type { Transport } from './transport.js';
import type { Transport } from './transport.js';

export interface LiveMetrics {
  /** A stream, reservation or WebSocket opened (and later closed). */
  opened(transport: Transport): void;
  closed(transport: Transport): void;
  /** A subscription started on a live transport ('error': its subscribe resolver refused it). */
  operation(type: 'subscription', outcome: 'ok' | 'error'): void;
  /** Errors answered outside envelop's parse, validate and execute (graphql_errors_total counts those there). */
  errors(errors: readonly GraphQLError[]): void;
  /** A subscription runs on `transport` (after operation(…, 'ok')), and later ended. */
  subscriptionStarted(transport: Transport): void;
  subscriptionEnded(transport: Transport): void;
  /** A live query (`@live`) runs on `transport`, and later ended. */
  liveQueryStarted(transport: Transport): void;
  liveQueryEnded(transport: Transport): void;
}

export interface LiveCore {
  yoga: Yoga;
  contextOptions: ContextOptions;
  /** Per connection: past this much unwritten output it is cut off (its client resumes with afterSequence). */
  maxBufferedBytes: number;
  /** Request bodies, and WebSocket messages. */
  maxBodyBytes: number;
  metrics: LiveMetrics;
  /** Ends open subscriptions whose key is refused, or whose caller lost what they follow. */
  streamGuard: StreamGuard;
  /** Rate limits: each operation is counted as it starts, and open subscriptions per key capped. */
  rateLimits?: RateLimits;
  /** Which documents may run, and the registered ones by id. */
  trustedDocuments: TrustedDocuments;
  /** A span per operation (OTEL_EXPORTER_OTLP_ENDPOINT set). */
  tracing: boolean;
}

export type { Context };

// Content negotiation on /graphql (negotiation.ts) as a yoga plugin. Yoga reads the request's
// parameters (its body is never read twice or lost); this plugin looks at the operation and
// the Accept header, then answers with JSON through yoga's own processor, or hands the
// operation to a live transport: graphql-sse's distinct-connections stream or Apollo's
// multipart subscription; a live query (`@live`) goes to either as a subscription does.
// (Yoga's own choice ignores q-values and the Accept order.)
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import { getOperationAST, parse, type ExecutionResult } from 'graphql';
import { processRegularResult, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { NodeResponse } from './live/response-stream.js';
import type { OperationParams } from './live/core.js';
import type { MultipartTransport } from './multipart/handler.js';
import { mayStream, negotiate, type OperationKind, type Representation } from './negotiation.js';
import type { SseTransport } from './sse/handler.js';

export interface TransportsOptions {
  /** Made after yoga (they run operations through it): asked for on each request. */
  sse(): SseTransport;
  multipart(): MultipartTransport;
}

const MEDIA_TYPES: Record<Representation, string> = {
  'graphql-response+json': 'application/graphql-response+json',
  json: 'application/json',
  'event-stream': 'text/event-stream',
  multipart: 'multipart/mixed',
};

/** A placeholder result: a streamed operation is run by its transport, not by yoga. */
const STREAMED: ExecutionResult = {};

/** Operation kinds by document text: the same few documents come again and again. */
const MAX_REMEMBERED = 1_000;

function kindOf(
  cache: Map<string, OperationKind | null>,
  params: GraphQLParams,
): OperationKind | undefined {
  if (typeof params.query !== 'string') return undefined;
  const key = `${params.operationName ?? ''}\n${params.query}`;
  let kind = cache.get(key);
  if (kind === undefined) {
    try {
      const operation = getOperationAST(parse(params.query), params.operationName);
      kind = operation
        ? operation.operation === 'subscription'
          ? 'subscription'
          : getLiveDirectiveNode(operation)
            ? 'live'
            : 'single'
        : null;
    } catch {
      kind = null; // yoga reports the syntax error
    }
    if (cache.size >= MAX_REMEMBERED) cache.clear();
    cache.set(key, kind);
  }
  return kind ?? undefined;
}

export function liveTransports(options: TransportsOptions): Plugin {
  const kinds = new Map<string, OperationKind | null>();
  const chosen = new WeakMap<
    Request,
    { representation: Representation; params: OperationParams }
  >();
  return {
    onParams({ request, params, setResult }) {
      const accept = request.headers.get('accept');
      if (!mayStream(accept)) return; // JSON only: yoga answers as it always does
      const kind = kindOf(kinds, params);
      const representation = kind && negotiate(accept, kind);
      if (!representation) return; // a bad document, or nothing acceptable: yoga answers
      chosen.set(request, { representation, params: params as OperationParams });
      if (representation === 'event-stream' || representation === 'multipart') setResult(STREAMED);
    },
    onResultProcess({ request, setResultProcessor, serverContext }) {
      const choice = chosen.get(request);
      if (!choice) return;
      const mediaType = MEDIA_TYPES[choice.representation];
      // Under node:http, the stream writes the Node response (response-stream.ts).
      const { res } = serverContext as { res?: NodeResponse };
      if (choice.representation === 'event-stream')
        setResultProcessor(() => options.sse().distinct(request, choice.params, res), mediaType);
      else if (choice.representation === 'multipart')
        setResultProcessor(
          () => options.multipart().subscribe(request, choice.params, res),
          mediaType,
        );
      else setResultProcessor(processRegularResult, mediaType);
    },
  };
}

// How /graphql answers a request, from its Accept header and its operation's kind (a
// subscription, a live query, one with @defer or @stream, or a single result): read by the
// live transports' plugin (transports-plugin.ts) and the trusted documents' (whose check an
// event stream's transport makes itself).
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import { getOperationAST, parse } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import { usesIncrementalDelivery } from './incremental.js';
import { mayStream, negotiate, type OperationKind, type Representation } from './negotiation.js';

/** Operation kinds by document text: the same few documents come again and again. */
const MAX_REMEMBERED = 1_000;
const kinds = new Map<string, OperationKind | null>();

function kindOf(params: GraphQLParams): OperationKind | undefined {
  if (typeof params.query !== 'string') return undefined;
  const key = `${params.operationName ?? ''}\n${params.query}`;
  let kind = kinds.get(key);
  if (kind === undefined) {
    try {
      const document = parse(params.query);
      const operation = getOperationAST(document, params.operationName);
      if (!operation) kind = null;
      else if (operation.operation === 'subscription') kind = 'subscription';
      else if (getLiveDirectiveNode(operation)) kind = 'live';
      else kind = usesIncrementalDelivery(document) ? 'incremental' : 'single';
    } catch {
      kind = null; // yoga reports the syntax error
    }
    if (kinds.size >= MAX_REMEMBERED) kinds.clear();
    kinds.set(key, kind);
  }
  return kind ?? undefined;
}

/** How /graphql answers the request: undefined when yoga answers it as it always does. */
export function representationOf(
  request: Request,
  params: GraphQLParams,
): { representation: Representation; kind: OperationKind } | undefined {
  const accept = request.headers.get('accept');
  if (!mayStream(accept)) return undefined; // JSON only
  const kind = kindOf(params);
  const representation = kind && negotiate(accept, kind);
  return representation ? { representation, kind } : undefined; // a bad document, or nothing acceptable
}

/**
 * Whether /graphql hands the request to the graphql-sse transport, which checks its document
 * against the trusted documents itself and refuses it inside the stream, as GraphQL over SSE's
 * distinct connections mode asks of every check before execution (a 400 fails an EventSource).
 */
export function sentAsEventStream(request: Request, params: GraphQLParams): boolean {
  return representationOf(request, params)?.representation === 'event-stream';
}

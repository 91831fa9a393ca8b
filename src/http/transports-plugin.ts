// Content negotiation on /graphql (representation.ts) as a yoga plugin. Yoga reads the request's
// parameters (its body is never read twice or lost); this plugin looks at the operation and the
// Accept header, then answers with JSON through yoga's own processor, or hands the operation to a
// live transport: graphql-sse's distinct-connections stream or Apollo's multipart subscription; a
// live query (`@live`) goes to either as a subscription does. (Yoga's own choice ignores q-values
// and the Accept order.) An incremental result (@defer, @stream; incremental.ts) is sent as
// multipart/mixed by yoga's own processor, or merged into one JSON result for a client that takes
// JSON only.
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, processRegularResult, type FetchAPI, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../platform/errors.js';
import { mergeIncrementalResults } from './incremental.js';
import type { NodeResponse } from './live/response-stream.js';
import type { OperationParams } from './live/core.js';
import type { MultipartTransport } from './multipart/handler.js';
import { negotiate, type OperationKind, type Representation } from './negotiation.js';
import { representationOf } from './representation.js';
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

/** JSON for a client that takes JSON only: an incremental result's payloads merged into one. */
const mergedJson = async (result: unknown, fetchAPI: FetchAPI, mediaType: string) =>
  processRegularResult(
    await mergeIncrementalResults(result as AsyncIterable<ExecutionResult>),
    fetchAPI,
    mediaType,
  );

/** The JSON media type the client takes for one result, if it takes one. */
function jsonType(accept: string | null): string | undefined {
  const representation = negotiate(accept, 'single');
  return representation === 'json' || representation === 'graphql-response+json'
    ? MEDIA_TYPES[representation]
    : undefined;
}

/** Apollo's incremental delivery names its format in the media type (deferSpec=20220824). */
const DEFER_SPEC = 'deferSpec=20220824';

/** A subscription or a live query: our multipart transport runs it (not yoga's processor). */
const runsAsStream = (kind: OperationKind) => kind === 'subscription' || kind === 'live';

/**
 * What yoga's own refusals of a request's form say, which it answers with an empty body: every
 * error carries `extensions.code` (docs/clients.md), so these get a GraphQL error too (JSON,
 * whatever the Accept header asked: none of it could carry one).
 */
const EMPTY_REFUSALS: Partial<Record<number, string>> = {
  406:
    'Accept names no media type this operation can be sent as: a query or mutation as ' +
    'application/graphql-response+json, application/json or text/event-stream (with @defer or ' +
    '@stream also multipart/mixed), a subscription or a live query as text/event-stream or ' +
    'multipart/mixed',
  415: 'Send GraphQL as a GET or as a POST of application/json',
};

function codedRefusal(fetchAPI: FetchAPI, response: Response, message: string): Response {
  const headers = new fetchAPI.Headers(response.headers);
  headers.set('content-type', 'application/json; charset=utf-8');
  const body = { errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] };
  return new fetchAPI.Response(JSON.stringify(body), { status: response.status, headers });
}

export function liveTransports(options: TransportsOptions): Plugin {
  const chosen = new WeakMap<
    Request,
    { representation: Representation; kind: OperationKind; params: OperationParams }
  >();
  // Subscriptions yoga runs itself (a JSON-only client's): their stream is never merged (406).
  const subscriptions = new WeakSet<Request>();
  return {
    onSubscribe({ args }) {
      const { request } = args.contextValue as { request?: Request };
      if (request) subscriptions.add(request);
    },
    onParams({ request, params, setResult }) {
      const answer = representationOf(request, params);
      if (!answer) return; // yoga answers
      const { representation, kind } = answer;
      chosen.set(request, { representation, kind, params: params as OperationParams });
      if (
        representation === 'event-stream' ||
        (representation === 'multipart' && runsAsStream(kind))
      )
        setResult(STREAMED);
    },
    onResultProcess({ request, result, setResultProcessor, serverContext }) {
      const choice = chosen.get(request);
      // Under node:http, the stream writes the Node response (response-stream.ts).
      const { res } = serverContext as { res?: NodeResponse };
      if (choice?.representation === 'event-stream')
        return setResultProcessor(
          () => options.sse().distinct(request, choice.params, res),
          MEDIA_TYPES['event-stream'],
        );
      if (choice?.representation === 'multipart' && runsAsStream(choice.kind))
        return setResultProcessor(
          () => options.multipart().subscribe(request, choice.params, res),
          MEDIA_TYPES.multipart,
        );
      // An incremental result over multipart/mixed: yoga's processor, which picks multipart
      // for an async iterable whenever the client accepts it (Apollo's and urql's framing).
      if (choice?.representation === 'multipart' && isAsyncIterable(result)) return;
      const json = jsonType(request.headers.get('accept'));
      if (!json) return; // nothing acceptable: yoga answers (406, or multipart alone)
      if (!isAsyncIterable(result)) {
        if (choice) setResultProcessor(processRegularResult, json);
      } else if (!subscriptions.has(request)) setResultProcessor(mergedJson, json);
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      const refusal = EMPTY_REFUSALS[response.status];
      if (refusal && response.body === null)
        return setResponse(codedRefusal(fetchAPI, response, refusal));
      if (chosen.get(request)?.kind !== 'incremental') return;
      const type = response.headers.get('content-type');
      if (!type?.startsWith('multipart/mixed') || type.includes('deferSpec')) return;
      // Deleted first: whatwg-node's headers keep yoga's `Content-Type` beside a set `content-type`.
      response.headers.delete('content-type');
      response.headers.set('content-type', `${type}; ${DEFER_SPEC}`);
    },
  };
}

// Subscriptions (and queries) over the graphql-sse protocol, both modes, through
// graphql-sse's own handler: yoga's plugin answers 400 to a validation error in
// distinct-connections mode, where PROTOCOL.md wants it as a `next` event.
// Operations are parsed, validated and given their context by yoga's envelop pipeline
// (auth applies); queries and mutations execute there too, subscriptions through
// subscribeSharingResults with their errors masked here (same maskError as yoga's).
import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { createHandler, type HandlerOptions } from 'graphql-sse';
import type { YogaServerInstance } from 'graphql-yoga';
import { callerOf, type Context, type ContextOptions } from './context.js';
import { ErrorCode, maskError } from './errors.js';
import { subscribeSharingResults } from './shared-subscription-results.js';

/**
 * A single result as a one-event stream. graphql-sse only takes an onSubscribe result
 * as a result when it has a `data` key, which request errors must not have (spec).
 */
async function* once(result: ExecutionResult) {
  yield result;
}

/** What yoga's maskedErrors does to a result: every error through maskError. */
function masked(result: ExecutionResult): ExecutionResult {
  return result.errors?.length ? { ...result, errors: result.errors.map((error) => maskError(error) as GraphQLError) } : result;
}

/**
 * A stream that fails mid-way ends with its error as a last result instead of breaking
 * the HTTP stream (graphql-sse would otherwise leave the client waiting). Not an async
 * generator: a leaving client's return() must reach the source at once, not after the
 * source's next event.
 */
function endOnError(results: AsyncIterable<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const source = results[Symbol.asyncIterator]();
  let ended = false;
  return {
    next() {
      if (ended) return Promise.resolve({ value: undefined, done: true });
      // A then-chain, not an async function: this runs per subscriber per event.
      return source.next().then(
        (step) => (step.done ? step : { value: masked(step.value), done: false }),
        (error: unknown) => {
          ended = true;
          return { value: { errors: [maskError(error) as GraphQLError] }, done: false };
        },
      );
    },
    async return() {
      ended = true;
      await source.return?.();
      return { value: undefined, done: true };
    },
    // graphql-sse only returns (on a client leaving) what has next, return AND throw.
    async throw(error: unknown) {
      ended = true;
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Request errors for the client: yoga's internal `http` hints stay on the server. */
function requestErrors(errors: readonly GraphQLError[]) {
  return once({
    errors: errors.map((error) => {
      const { http: _http, ...extensions } = error.extensions ?? {};
      return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
    }),
  });
}

const json = (status: number, statusText: string, body: unknown, headers: Record<string, string> = {}) =>
  [JSON.stringify(body), { status, statusText, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } }] as const;

interface FetchApi {
  Response: typeof Response;
  ReadableStream: typeof ReadableStream;
  TextEncoder: typeof TextEncoder;
}

/**
 * graphql-sse's fetch adapter (`graphql-sse/lib/use/fetch`), except that the messages of a
 * stream that are ready together leave as one chunk: theirs writes each message as its
 * own chunk, one socket write each, and one task event fanned out to the hundreds of
 * subscriptions of a single-connection stream made that the main cost.
 */
function createFetchHandler(options: HandlerOptions<Request, FetchApi>, api: FetchApi): (request: Request) => Promise<Response> {
  const handler = createHandler(options);
  return async (request) => {
    const [body, init] = await handler({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: () => request.text(),
      raw: request,
      context: api,
    });
    if (!body || typeof body === 'string') return new api.Response(body, init);
    const encoder = new api.TextEncoder();
    let cancelled = false;
    // Pushed, not pulled: graphql-sse queues its messages without bound anyway. Messages
    // produced before the event loop's next check phase leave as one chunk.
    const stream = new api.ReadableStream<Uint8Array>({
      start(controller) {
        let text = '';
        let flushScheduled = false;
        const flush = () => {
          flushScheduled = false;
          if (text && !cancelled) controller.enqueue(encoder.encode(text));
          text = '';
        };
        void (async () => {
          for await (const message of body) {
            text += message;
            if (!flushScheduled) {
              flushScheduled = true;
              setImmediate(flush);
            }
          }
          flush();
          if (!cancelled) controller.close();
        })().catch((error: unknown) => {
          if (!cancelled) controller.error(error);
        });
      },
      async cancel() {
        cancelled = true;
        await body.return(undefined);
      },
    });
    if (request.signal.aborted) void body.return(undefined);
    else request.signal.addEventListener('abort', () => void (cancelled || body.return(undefined)));
    return new api.Response(stream, init);
  };
}

/** The fetch handler for /graphql/stream (and event-stream requests on /graphql). */
export function createSseHandler(
  yoga: YogaServerInstance<Record<string, never>, Context>,
  contextOptions: ContextOptions,
): (request: Request) => Promise<Response> {
  return createFetchHandler(
    {
      // Every request authenticates like a query. Stream tokens carry their owner's id,
      // so one caller cannot attach operations to another caller's stream.
      async authenticate(req) {
        const caller = await callerOf(req.raw, contextOptions);
        if (!caller) {
          return json(401, 'Unauthorized', {
            errors: [{ message: 'A valid API key is required', extensions: { code: ErrorCode.UNAUTHENTICATED } }],
          }, { 'www-authenticate': 'Bearer' });
        }
        // graphql-sse PROTOCOL.md: single-connection mode names its stream by a token,
        // from the X-GraphQL-Event-Stream-Token header or the `token` search parameter.
        const presented = req.headers.get('x-graphql-event-stream-token') ?? new URL(req.url).searchParams.get('token');
        if (presented) {
          if (!presented.startsWith(`${caller.userId}.`)) {
            return json(403, 'Forbidden', {
              errors: [{ message: 'This stream token belongs to another caller', extensions: { code: ErrorCode.FORBIDDEN } }],
            });
          }
          return presented;
        }
        return `${caller.userId}.${randomUUID()}`;
      },
      async onSubscribe(req, params) {
        const enveloped = yoga.getEnveloped({ request: req.raw, params } as never);
        let document;
        try {
          document = enveloped.parse(params.query);
        } catch (error) {
          return requestErrors([error instanceof GraphQLError ? error : new GraphQLError(String(error))]);
        }
        const validationErrors = enveloped.validate(enveloped.schema, document);
        // graphql-sse PROTOCOL.md: in distinct mode a validation error is a `next` event on the accepted stream.
        if (validationErrors.length) return requestErrors(validationErrors);
        const operation = getOperationAST(document, params.operationName);
        if (!operation) return requestErrors([new GraphQLError('Unable to identify the operation to run')]);
        // GraphQL over HTTP: mutations only over POST.
        if (operation.operation === 'mutation' && req.method === 'GET') {
          return json(405, 'Method Not Allowed', { errors: [{ message: 'Mutations need POST' }] }, { allow: 'POST' });
        }
        const contextValue = await enveloped.contextFactory();
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: params.operationName,
          variableValues: params.variables,
          contextValue,
        };
        if (operation.operation !== 'subscription') {
          const result = await enveloped.execute(args);
          return (Symbol.asyncIterator in result ? endOnError(result) : once(result as ExecutionResult)) as never;
        }
        // Not through envelop's subscribe: its per-event result mapping (for yoga's error
        // masking) cost a quarter of the CPU of a fan-out; results are masked here instead.
        const result = await subscribeSharingResults(args);
        return (Symbol.asyncIterator in result ? endOnError(result) : once(masked(result))) as never;
      },
    },
    { Response: yoga.fetchAPI.Response, ReadableStream: yoga.fetchAPI.ReadableStream, TextEncoder: yoga.fetchAPI.TextEncoder },
  );
}

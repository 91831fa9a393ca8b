// Running one GraphQL operation for an event stream: its results as JSON texts, handed to a
// sink in order, then the end. Parse, validation and context come from yoga's envelop
// pipeline (auth applies); queries and mutations execute there too (yoga masks their
// errors). Subscriptions do not go through envelop's subscribe, whose per-event result
// mapping cost a quarter of a fan-out's CPU: their results are masked here with the same
// maskError, and shared.
//
// Fan-out: the subscribers of one task get the same event objects from the TaskEventHub,
// and executing one selection on one event for one caller gives one result. graphql-js
// would execute and serialise it once per subscriber; here it is executed and turned into
// JSON once per (event, document, operation, variables, caller), and every such
// subscriber is sent that text. Each subscriber keeps its own source stream, so its own
// replay, first event and completion are untouched.
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../context.js';
import { maskError } from '../errors.js';
import { isPushFeed, observeFeed } from '../resolvers/push-feed.js';

export interface OperationParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export interface ResultSink {
  /** One result, as JSON text. */
  next(json: string): void;
  complete(): void;
}

type Yoga = YogaServerInstance<Record<string, never>, Context>;
type Json = string | Promise<string>;

/** What yoga's maskedErrors does to a result: every error through maskError. */
function masked(result: ExecutionResult): ExecutionResult {
  return result.errors?.length ? { ...result, errors: result.errors.map((error) => maskError(error) as GraphQLError) } : result;
}

const toJson = (result: ExecutionResult) => JSON.stringify(masked(result));

/** Request errors for the client: yoga's internal `http` hints stay on the server. */
function requestErrorsJson(errors: readonly GraphQLError[]): string {
  return JSON.stringify({
    errors: errors.map((error) => {
      const { http: _http, ...extensions } = error.extensions ?? {};
      return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
    }),
  });
}

/** Per event object, per document: result texts by operation, variables and caller. */
const resultsByEvent = new WeakMap<object, WeakMap<DocumentNode, Map<string, Json>>>();

function sharedResultJson(args: ExecutionArgs, event: unknown, key: string): Json {
  const run = (): Json => {
    const result = execute({ ...args, rootValue: event });
    return result instanceof Promise ? result.then(toJson) : toJson(result);
  };
  if (typeof event !== 'object' || event === null) return run();
  let byDocument = resultsByEvent.get(event);
  if (!byDocument) resultsByEvent.set(event, (byDocument = new WeakMap()));
  let byKey = byDocument.get(args.document);
  if (!byKey) byDocument.set(args.document, (byKey = new Map()));
  let json = byKey.get(key);
  if (json === undefined) byKey.set(key, (json = run()));
  return json;
}

/** Feeds `sink` in order, whether each text is ready now or later. */
function orderedSink(sink: ResultSink) {
  let tail: Promise<void> | undefined;
  const fail = (error: unknown) => sink.next(JSON.stringify({ errors: [maskError(error)] }));
  return {
    next(json: Json) {
      if (typeof json === 'string' && !tail) return sink.next(json);
      tail = (tail ?? Promise.resolve()).then(() => json).then(sink.next, fail);
    },
    complete() {
      if (tail) void tail.then(sink.complete);
      else sink.complete();
    },
  };
}

export type OperationStart =
  /** The operation runs; `stop` ends it early (the client left or cancelled it). */
  | { kind: 'running'; stop: () => void }
  /** Refused before running: an HTTP answer (e.g. a mutation over GET). */
  | { kind: 'refused'; status: number; body: unknown; headers?: Record<string, string> };

/**
 * Prepares and starts an operation, sending its results to `sink`. Request errors (parse,
 * validation, a failing subscribe resolver) are results too, as graphql-sse's PROTOCOL.md
 * wants them in both modes.
 */
export async function startOperation(yoga: Yoga, request: Request, params: OperationParams, sink: ResultSink): Promise<OperationStart> {
  const once = (json: string): OperationStart => {
    sink.next(json);
    sink.complete();
    return { kind: 'running', stop: () => {} };
  };
  const enveloped = yoga.getEnveloped({ request, params } as never);
  let document: DocumentNode;
  try {
    document = enveloped.parse(params.query);
  } catch (error) {
    return once(requestErrorsJson([error instanceof GraphQLError ? error : new GraphQLError(String(error))]));
  }
  const validationErrors = enveloped.validate(enveloped.schema, document);
  if (validationErrors.length) return once(requestErrorsJson(validationErrors));
  const operation = getOperationAST(document, params.operationName);
  if (!operation) return once(requestErrorsJson([new GraphQLError('Unable to identify the operation to run')]));
  // GraphQL over HTTP: mutations only over POST.
  if (operation.operation === 'mutation' && request.method === 'GET') {
    return { kind: 'refused', status: 405, body: { errors: [{ message: 'Mutations need POST' }] }, headers: { allow: 'POST' } };
  }
  const contextValue = (await enveloped.contextFactory()) as unknown as Context;
  const args: ExecutionArgs = {
    schema: enveloped.schema,
    document,
    operationName: params.operationName,
    variableValues: params.variables,
    contextValue,
  };
  if (operation.operation !== 'subscription') {
    const result = await enveloped.execute(args);
    if (!(Symbol.asyncIterator in result)) return once(JSON.stringify(result));
    return { kind: 'running', stop: pull(result as AsyncIterableIterator<ExecutionResult>, (each) => JSON.stringify(each), sink) };
  }
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return once(toJson(source));
  // What besides the document and the event decides the result; computed once per subscription.
  const { caller } = contextValue;
  const key = `${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? {})}\n${caller.userId}\n${[...caller.scopes].sort().join(',')}`;
  const resultOf = (event: unknown) => sharedResultJson(args, event, key);
  if (!isPushFeed(source)) return { kind: 'running', stop: pull(source as AsyncIterableIterator<unknown>, resultOf, sink) };
  const ordered = orderedSink(sink);
  const stop = source[observeFeed]({
    next: (event) => ordered.next(resultOf(event)),
    complete: () => ordered.complete(),
    error: (error) => {
      ordered.next(JSON.stringify({ errors: [maskError(error)] }));
      ordered.complete();
    },
  });
  return { kind: 'running', stop };
}

/**
 * Iterates a source that only has the async iterator side. A source that fails mid-way
 * ends with its error as a last result rather than breaking the HTTP stream.
 */
function pull<T>(source: AsyncIterableIterator<T>, resultOf: (each: T) => Json, sink: ResultSink): () => void {
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || stopped) break;
        const json = await resultOf(step.value);
        if (stopped) break;
        sink.next(json);
      }
    } catch (error) {
      if (!stopped) sink.next(JSON.stringify({ errors: [maskError(error)] }));
    }
    if (!stopped) sink.complete();
  })();
  return () => {
    stopped = true;
    void source.return?.();
  };
}

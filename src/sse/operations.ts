// Running one GraphQL operation for an event stream: its results as JSON texts, handed to
// the transport's OperationResults in order, then the end. Parse, validation and context come from yoga's envelop
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
import { isPushFeed, observeFeed, type FeedObserver } from '../resolvers/push-feed.js';

export interface OperationParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
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

/**
 * Subscriptions whose results are equal for equal events: the same document, operation,
 * variables and caller. A group remembers each event's result text (and the last one
 * apart: its subscribers usually ask for the same event one after another).
 */
interface ResultGroup {
  subscriptions: number;
  lastEvent: unknown;
  lastJson: Json | undefined;
  readonly byEvent: WeakMap<object, Json>;
  /** One subscription left; the last one removes the group. */
  leave(): void;
}

const groupsByDocument = new WeakMap<DocumentNode, Map<string, ResultGroup>>();

function joinGroup(document: DocumentNode, key: string): ResultGroup {
  let groups = groupsByDocument.get(document);
  if (!groups) groupsByDocument.set(document, (groups = new Map()));
  let group = groups.get(key);
  if (!group) {
    const created: ResultGroup = {
      subscriptions: 0,
      lastEvent: undefined,
      lastJson: undefined,
      byEvent: new WeakMap(),
      leave: () => {
        if (--created.subscriptions === 0 && groups.get(key) === created) groups.delete(key);
      },
    };
    groups.set(key, (group = created));
  }
  group.subscriptions++;
  return group;
}

function executeJson(args: ExecutionArgs, event: unknown): Json {
  const result = execute({ ...args, rootValue: event });
  return result instanceof Promise ? result.then(toJson) : toJson(result);
}

/**
 * Only an event object is shared: it stands for one event. A primitive may come again
 * with another meaning (an id sent after every change of what it names).
 */
function groupResultJson(group: ResultGroup, args: ExecutionArgs, event: unknown): Json {
  if (typeof event !== 'object' || event === null) return executeJson(args, event);
  if (event === group.lastEvent && group.lastJson !== undefined) return group.lastJson;
  let json = group.byEvent.get(event);
  if (json === undefined) group.byEvent.set(event, (json = executeJson(args, event)));
  group.lastEvent = event;
  group.lastJson = json;
  return json;
}

const errorJson = (error: unknown) => JSON.stringify({ errors: [maskError(error)] });

/**
 * One operation's results, for a transport: it implements `deliver` (one result text) and
 * `finish` (the end); this class sends them in order, whether each text is ready now or
 * later, and for a subscription shares each event's text with the subscription's group.
 * The transport's object is itself what the event hub calls, thousands of times per event:
 * one object per subscriber on that path, not a chain of them (see WatchListener).
 */
export abstract class OperationResults implements FeedObserver<unknown> {
  private tail: Promise<void> | undefined;
  private group: ResultGroup | undefined;
  private args: ExecutionArgs | undefined;

  /** One result, as JSON text. */
  protected abstract deliver(json: string): void;
  /** After the last result. */
  protected abstract finish(): void;

  /** A subscription's event (FeedObserver). */
  next(event: unknown): void {
    this.send(groupResultJson(this.group!, this.args!, event));
  }

  error(error: unknown): void {
    this.send(errorJson(error));
    this.complete();
  }

  complete(): void {
    this.leaveGroup();
    if (this.tail) void this.tail.then(() => this.finish());
    else this.finish();
  }

  send(json: Json): void {
    if (typeof json === 'string' && this.tail === undefined) return this.deliver(json);
    this.tail = (this.tail ?? Promise.resolve())
      .then(() => json)
      .then(
        (text) => this.deliver(text),
        (error: unknown) => this.deliver(errorJson(error)),
      );
  }

  /** startOperation: a subscription's events are executed with `args`, shared with `group`. */
  shareWith(group: ResultGroup, args: ExecutionArgs): void {
    this.group = group;
    this.args = args;
  }

  leaveGroup(): void {
    const { group } = this;
    this.group = undefined;
    group?.leave();
  }
}

export type OperationStart =
  /** The operation runs; `stop` ends it early (the client left or cancelled it). */
  | { kind: 'running'; stop: () => void }
  /** Refused before running: an HTTP answer (e.g. a mutation over GET). */
  | { kind: 'refused'; status: number; body: unknown; headers?: Record<string, string> };

/**
 * Prepares and starts an operation, sending its results to the transport's `results`.
 * Request errors (parse, validation, a failing subscribe resolver) are results too, as
 * graphql-sse's PROTOCOL.md wants them in both modes.
 */
export async function startOperation(yoga: Yoga, request: Request, params: OperationParams, results: OperationResults): Promise<OperationStart> {
  const once = (json: string): OperationStart => {
    results.send(json);
    results.complete();
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
    return { kind: 'running', stop: pull(result as AsyncIterableIterator<ExecutionResult>, (each) => results.send(JSON.stringify(each)), results) };
  }
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return once(toJson(source));
  // What besides the document and the event decides the result; computed once per subscription.
  const { caller } = contextValue;
  const key = `${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? {})}\n${caller.userId}\n${[...caller.scopes].sort().join(',')}`;
  results.shareWith(joinGroup(document, key), args);
  const stop = isPushFeed(source)
    ? source[observeFeed](results)
    : pull(source as AsyncIterableIterator<unknown>, (event) => results.next(event), results);
  return {
    kind: 'running',
    stop: () => {
      results.leaveGroup();
      stop();
    },
  };
}

/**
 * Iterates a source that only has the async iterator side. A source that fails mid-way
 * ends with its error as a last result rather than breaking the HTTP stream.
 */
function pull<T>(source: AsyncIterableIterator<T>, consume: (each: T) => void, results: OperationResults): () => void {
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || stopped) break;
        consume(step.value);
      }
    } catch (error) {
      if (!stopped) results.send(errorJson(error));
    }
    if (!stopped) results.complete();
  })();
  return () => {
    stopped = true;
    void source.return?.();
  };
}

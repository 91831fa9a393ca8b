// Starting one GraphQL operation for a live transport. Parse, validation (with the operation
// limits) and context come from yoga's envelop pipeline, so auth and limits are the same as
// over HTTP; queries and mutations execute there too. Subscriptions skip envelop's per-event
// result mapping (costly in a fan-out): their source is a feed (src/feeds) observed by the
// transport's OperationResults, which share each event's result with equal subscriptions.
import {
  createSourceEventStream,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { isPushFeed, iteratorFeed, observeFeed } from '../../feeds/push-feed.js';
import { ErrorCode, maskError } from '../../platform/errors.js';
import type { Context } from '../../schema/builder.js';
import { checkInputBounds } from '../../schema/input-bounds.js';
import type { LiveCore } from './core.js';
import { joinGroup, toJson, type OperationResults } from './operation-results.js';

export interface OperationParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export type Yoga = YogaServerInstance<Record<string, never>, Context>;

export type OperationStart =
  /** The operation runs; `stop` ends it early (the client left or cancelled it). */
  | { kind: 'running'; stop: () => void; type: 'query' | 'mutation' | 'subscription' }
  /**
   * Refused before it ran (parse or validation errors, a mutation over GET, no valid key):
   * GraphQL-over-HTTP's answer, which each transport frames its own way.
   */
  | { kind: 'refused'; status: number; errors: GraphQLError[]; headers?: Record<string, string> };

/** Request errors as the client sees them: masked, coded, without yoga's internal `http` hints. */
export function requestErrors(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((error) => {
    const { http: _http, ...extensions } = (maskError(error) as GraphQLError).extensions ?? {};
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      extensions,
    });
  });
}

const refused = (
  status: number,
  errors: readonly GraphQLError[],
  headers?: Record<string, string>,
): OperationStart => ({
  kind: 'refused',
  status,
  errors: requestErrors(errors),
  headers,
});

/** What besides the document and the event decides a subscription's result: computed once per subscription. */
function groupKey(params: OperationParams, context: Context): string {
  const { caller } = context;
  return `${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? {})}\n${caller.userId}\n${[...caller.scopes].sort().join(',')}`;
}

/** Prepares and starts an operation, sending its results to the transport's `results`. */
/** Queries and mutations are counted by the metrics plugin (envelop's execute); subscriptions here. */
export async function startOperation(
  live: LiveCore,
  request: Request,
  params: OperationParams,
  results: OperationResults,
): Promise<OperationStart> {
  const enveloped = live.yoga.getEnveloped({ request, params } as never);
  let document: DocumentNode;
  try {
    document = enveloped.parse(params.query);
  } catch (error) {
    return refused(400, [error instanceof GraphQLError ? error : new GraphQLError(String(error))]);
  }
  const validationErrors = enveloped.validate(enveloped.schema, document);
  if (validationErrors.length) return refused(400, validationErrors);
  const operation = getOperationAST(document, params.operationName);
  if (!operation)
    return refused(400, [
      new GraphQLError('Unable to identify the operation to run', {
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      }),
    ]);
  // GraphQL over HTTP: mutations only over POST.
  if (operation.operation === 'mutation' && request.method === 'GET') {
    return refused(
      405,
      [new GraphQLError('Mutations need POST', { extensions: { code: ErrorCode.BAD_USER_INPUT } })],
      { allow: 'POST' },
    );
  }
  // Variables are the request's too: coerced before running, so a bad one is a request error.
  const variables = getVariableValues(
    enveloped.schema,
    operation.variableDefinitions ?? [],
    params.variables ?? {},
  );
  if (variables.errors) return refused(400, variables.errors);
  const outOfBounds = checkInputBounds(
    enveloped.schema,
    document,
    params.operationName,
    params.variables,
  );
  if (outOfBounds) return refused(400, [outOfBounds]);
  let contextValue: Context;
  try {
    contextValue = (await enveloped.contextFactory()) as unknown as Context;
  } catch (error) {
    return refused(401, [
      error instanceof GraphQLError ? error : new GraphQLError('Unauthenticated'),
    ]);
  }
  const args: ExecutionArgs = {
    schema: enveloped.schema,
    document,
    operationName: params.operationName,
    variableValues: params.variables,
    contextValue,
  };
  const type = operation.operation;
  if (type !== 'subscription') {
    // No incremental delivery here (@defer and @stream are not enabled): one result.
    results.send(JSON.stringify((await enveloped.execute(args)) as ExecutionResult));
    results.complete();
    return { kind: 'running', stop: () => {}, type };
  }
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) {
    // The subscribe resolver refused (an unknown id, a missing scope): its errors are the one result.
    live.metrics.operation('subscription', 'error');
    results.send(toJson(source));
    results.complete();
    return { kind: 'running', stop: () => {}, type };
  }
  live.metrics.operation('subscription', 'ok');
  results.shareWith(joinGroup(document, groupKey(params, contextValue)), args);
  const feed = isPushFeed(source)
    ? source
    : iteratorFeed((source as AsyncIterable<unknown>)[Symbol.asyncIterator]());
  const stop = feed[observeFeed](results);
  return {
    kind: 'running',
    type,
    stop: () => {
      results.leaveGroup();
      stop();
    },
  };
}

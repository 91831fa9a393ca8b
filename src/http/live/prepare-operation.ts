// Preparing one GraphQL operation for a live transport through yoga's envelop pipeline (parse,
// validation with the operation limits, variables, input bounds, context), so auth and limits
// are the same as over HTTP; or refusing it with GraphQL over HTTP's status and errors.
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type OperationTypeNode,
} from 'graphql';
import { databaseUnavailable, ErrorCode, ServiceUnavailableError } from '../../platform/errors.js';
import { maskErrorForStream } from '../../schema/errors.js';
import type { Context } from '../../schema/builder.js';
import { checkInputBounds } from '../../schema/input-bounds.js';
import { liveQueryRefusal } from '../live-query/rules.js';
import { admitLive, ANONYMOUS } from '../rate-limit/live.js';
import { resolveTrustedOperation } from '../trusted-documents/plugin.js';
import type { LiveCore, OperationParams } from './core.js';

/**
 * Refused before it ran (parse or validation errors, a mutation over GET, no valid key):
 * GraphQL-over-HTTP's answer, which each transport frames its own way.
 */
export interface Refusal {
  kind: 'refused';
  status: number;
  errors: GraphQLError[];
  headers?: Record<string, string>;
}

export type OperationStart =
  /** The operation runs; `stop` ends it early (the client left or cancelled it). */
  { kind: 'running'; stop: () => void; type: 'query' | 'mutation' | 'subscription' } | Refusal;

/** An operation ready to run: its arguments, its type, and yoga's envelop to execute it with. */
export interface PreparedOperation {
  kind: 'prepared';
  args: ExecutionArgs & { contextValue: Context };
  document: DocumentNode;
  type: OperationTypeNode;
  execute: (args: ExecutionArgs) => unknown;
}

/** Request errors as the client sees them: masked, coded, without yoga's internal `http` hints. */
export const requestErrors = (errors: readonly GraphQLError[]): GraphQLError[] =>
  errors.map(maskErrorForStream);

/** A refusal envelop's hooks did not count (all but parse and validation failures): counted here. */
const refused = (
  live: LiveCore,
  status: number,
  errors: readonly GraphQLError[],
  headers?: Record<string, string>,
): Refusal => {
  const masked = requestErrors(errors);
  live.metrics.errors(masked);
  return { kind: 'refused', status, errors: masked, headers };
};

/** An error that says PostgreSQL is out of reach: as thrown, or masked already (a live query's). */
const isUnavailable = (error: GraphQLError) => {
  if (error.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE) return true;
  const original = error.originalError ?? error;
  return original instanceof ServiceUnavailableError || databaseUnavailable(original);
};

/**
 * An operation whose start failed because PostgreSQL is away (a subscription's resolver, a
 * live query's or a query's one result): refused as GraphQL over HTTP refuses it, 503 with
 * Retry-After, before any stream opens, so that a client can tell "retry in a moment" from an
 * answer (docs/operations.md, "Losing PostgreSQL"). `counted`: envelop's metrics plugin has
 * counted its errors already (an executed query or mutation).
 */
export function refusedForUnavailable(
  live: LiveCore,
  errors: readonly GraphQLError[] | undefined,
  counted: boolean,
): Refusal | undefined {
  if (!errors?.some(isUnavailable)) return undefined;
  const masked = requestErrors(errors);
  const retryAfter = masked.find((error) => error.extensions?.retryAfter)?.extensions.retryAfter;
  const headers = { 'Retry-After': String(retryAfter ?? new ServiceUnavailableError().retryAfter) };
  if (!counted) live.metrics.errors(masked);
  return { kind: 'refused', status: 503, errors: masked, headers };
}

/** A parse or validation failure, which the metrics plugin counted in envelop. */
const refusedInEnvelop = (errors: readonly GraphQLError[]): Refusal => ({
  kind: 'refused',
  status: 400,
  errors: requestErrors(errors),
});

const badInput = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });

/** The rate limits' refusal, if any: a caller's operation at its cost; without a key, the address's. */
async function rateLimited(
  live: LiveCore,
  request: Request,
  caller: Context['caller'] | undefined,
  document: DocumentNode,
  operationName: string | null | undefined,
): Promise<Refusal | undefined> {
  const limits = live.rateLimits;
  if (!limits) return undefined;
  const cost = caller ? limits.costs.ofDocument(document, operationName) : ANONYMOUS;
  const limited = await admitLive(limits, request, caller, cost);
  return limited && refused(live, 429, [limited.refusal], limited.headers);
}

/** The context of a valid key whose buckets held the operation's cost, or the refusal. */
async function admittedContext(
  live: LiveCore,
  request: Request,
  enveloped: { contextFactory(): unknown },
  document: DocumentNode,
  operationName: string | null | undefined,
): Promise<Context | Refusal> {
  let contextValue: Context;
  try {
    contextValue = (await enveloped.contextFactory()) as Context;
  } catch (error) {
    const limited = await rateLimited(live, request, undefined, document, operationName);
    return (
      limited ??
      refused(live, 401, [
        error instanceof GraphQLError ? error : new GraphQLError('Unauthenticated'),
      ])
    );
  }
  return (
    (await rateLimited(live, request, contextValue.caller, document, operationName)) ?? contextValue
  );
}

export async function prepareOperation(
  live: LiveCore,
  request: Request,
  requested: OperationParams,
): Promise<PreparedOperation | Refusal> {
  const trusted = await resolveTrustedOperation(live.trustedDocuments, request, requested);
  if (trusted instanceof GraphQLError) return refused(live, 400, [trusted]);
  const params = trusted;
  const enveloped = live.yoga.getEnveloped({ request, params } as never);
  let document: DocumentNode;
  try {
    document = enveloped.parse(params.query);
  } catch (error) {
    return refusedInEnvelop([
      error instanceof GraphQLError ? error : new GraphQLError(String(error)),
    ]);
  }
  const validationErrors = enveloped.validate(enveloped.schema, document);
  if (validationErrors.length) return refusedInEnvelop(validationErrors);
  const operation = getOperationAST(document, params.operationName);
  if (!operation) return refused(live, 400, [badInput('Unable to identify the operation to run')]);
  // GraphQL over HTTP: mutations only over POST.
  if (operation.operation === 'mutation' && request.method === 'GET')
    return refused(live, 405, [badInput('Mutations need POST')], { allow: 'POST' });
  // Variables are the request's too: coerced before running, so a bad one is a request error.
  const variables = getVariableValues(
    enveloped.schema,
    operation.variableDefinitions ?? [],
    params.variables ?? {},
  );
  if (variables.errors) return refused(live, 400, variables.errors);
  const outOfBounds =
    checkInputBounds(enveloped.schema, document, params.operationName, params.variables) ??
    liveQueryRefusal(enveloped.schema, document, params.operationName, params.variables);
  if (outOfBounds) return refused(live, 400, [outOfBounds]);
  const context = await admittedContext(live, request, enveloped, document, params.operationName);
  if ((context as Refusal).kind === 'refused') return context as Refusal;
  const contextValue = context as Context;
  const args = {
    schema: enveloped.schema,
    document,
    operationName: params.operationName,
    variableValues: params.variables,
    contextValue,
  };
  const execute = (executed: ExecutionArgs) => enveloped.execute(executed);
  return { kind: 'prepared', args, document, type: operation.operation, execute };
}

// The per-request GraphQL context, shared by HTTP, graphql-sse and the tests: the caller of
// a valid API key, and what the app made once for every request (services' needs, feeds).
import { randomUUID } from 'node:crypto';
import { unauthenticated } from '../platform/errors.js';
import { apiKeyFromHeaders, type Caller } from '../services/auth/caller.js';
import type { Context } from '../schema/builder.js';
import { graphQLErrorOf } from '../schema/errors.js';

/** Everything in a Context but the request's own part. */
export type ContextOptions = Omit<Context, 'caller' | 'requestId'>;

/** The caller of a request, or undefined when it carries no valid key. */
export function callerOf(
  request: Request,
  options: Pick<ContextOptions, 'apiKeys'>,
): Promise<Caller | undefined> {
  return options.apiKeys.authenticate(apiKeyFromHeaders(request.headers));
}

/** Every operation needs a valid key (contract: UNAUTHENTICATED otherwise). */
export async function createContext(request: Request, options: ContextOptions): Promise<Context> {
  const caller = await callerOf(request, options);
  if (!caller) throw graphQLErrorOf(unauthenticated());
  return { ...options, caller, requestId: request.headers.get('x-request-id') ?? randomUUID() };
}

// The per-request GraphQL context, shared by HTTP, graphql-sse and the tests: the caller of
// a valid API key, and what the app made once for every request (services' needs, feeds).
import { randomUUID } from 'node:crypto';
import { unauthenticated } from '../platform/errors.js';
import { apiKeyFromHeaders, type Caller } from '../services/auth/caller.js';
import type { Context } from '../schema/builder.js';
import { graphQLErrorOf } from '../schema/errors.js';

/** Everything in a Context but the request's own part. */
export type ContextOptions = Omit<Context, 'caller' | 'requestId' | 'signal'>;

/** The caller of a request, or undefined when it carries no valid key. */
export function callerOf(
  request: Request,
  options: Pick<ContextOptions, 'apiKeys'>,
): Promise<Caller | undefined> {
  return options.apiKeys.authenticate(apiKeyFromHeaders(request.headers));
}

/**
 * What a request without a valid key is told, schema introspection included (GraphiQL shows it
 * in its result pane): where the key goes and how to get one.
 */
export const MISSING_KEY_MESSAGE =
  'A valid API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`. ' +
  '`npm start` prints an admin key (or set ADMIN_API_KEY); createApiKey mints keys for users ' +
  '(README, "Teams").';

/** Every operation needs a valid key (contract: UNAUTHENTICATED otherwise), introspection too. */
export async function createContext(request: Request, options: ContextOptions): Promise<Context> {
  const caller = await callerOf(request, options);
  if (!caller) throw graphQLErrorOf(unauthenticated(MISSING_KEY_MESSAGE));
  return {
    ...options,
    caller,
    requestId: request.headers.get('x-request-id') ?? randomUUID(),
    // A native signal of its own: @whatwg-node/server's request signal fires only its native
    // controller once one exists (as AbortSignal.any makes), so its own `aborted` and
    // listeners added to it directly would then stay silent. This one follows it either way.
    signal: AbortSignal.any([request.signal]),
  };
}

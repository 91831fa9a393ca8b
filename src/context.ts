// The per-request GraphQL context, shared by HTTP, graphql-sse and the tests.
import { randomUUID } from 'node:crypto';
import { apiKeyFromHeaders, authenticateApiKey, type Caller } from './resolvers/auth.js';
import { unauthenticated } from './errors.js';
import type { PubSub } from './pubsub.js';
import type { TaskEventHub } from './resolvers/task-events.js';

export interface Context {
  caller: Caller;
  requestId: string;
  pubsub: PubSub;
  taskEvents: TaskEventHub;
}

export interface ContextOptions {
  adminApiKey: string | undefined;
  pubsub: PubSub;
  taskEvents: TaskEventHub;
}

/** The caller of a request, or undefined when it carries no valid key. */
export function callerOf(request: Request, options: ContextOptions): Promise<Caller | undefined> {
  return authenticateApiKey(apiKeyFromHeaders(request.headers), options.adminApiKey);
}

/** Every operation needs a valid key (contract: UNAUTHENTICATED otherwise). */
export async function createContext(request: Request, options: ContextOptions): Promise<Context> {
  const caller = await callerOf(request, options);
  if (!caller) throw unauthenticated();
  return { caller, requestId: request.headers.get('x-request-id') ?? randomUUID(), pubsub: options.pubsub, taskEvents: options.taskEvents };
}

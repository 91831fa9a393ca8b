// Rate limits on /graphql as three yoga plugins. `address`, before the routes: each request's
// client address as it arrives (graphql-sse's endpoint needs it too). `admit`, once the
// parameters are final (after trusted documents swap an id for its document): the operation's
// cost taken from its caller's buckets; the take runs while yoga goes on (the response cache's
// lookup, parsing, validation, the context) and is waited for before anything executes, so a
// refused mutation never runs. A request without a valid key waits for its address's bucket at once.
// `answer`, last: a refusal replaces whatever else was ready (a cached answer, request errors),
// and every answer gets the limit headers. Operations that negotiation sends to a live
// transport are counted there as they start (prepare-operation.ts).
import type { IncomingMessage } from 'node:http';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { logger } from '../../platform/logger.js';
import { callerOf, type ContextOptions } from '../context.js';
import { mayStream, negotiate } from '../negotiation.js';
import { clientAddress } from './client-address.js';
import type { OperationCost } from './cost.js';
import type { Admission, RateLimits } from './limits.js';

/** What envelop's onExecute and onSubscribe both hand over. */
interface BeforeRunning {
  args: { contextValue: unknown };
  setResultAndStopExecution(result: ExecutionResult): void;
}

/**
 * Whether a live transport runs it (and counts it). @defer and @stream never change that
 * (negotiation.ts): their multipart or merged JSON answer is yoga's, counted here.
 */
function streamed(accept: string | null, operation: OperationCost): boolean {
  if (!mayStream(accept)) return false;
  const kind =
    operation.kind === 'subscription' ? 'subscription' : operation.live ? 'live' : 'single';
  const representation = negotiate(accept, kind);
  return representation === 'event-stream' || representation === 'multipart';
}

/** Each request's client address, as it arrives (graphql-sse's endpoint reads it too). */
function addressPlugin(limits: RateLimits): Plugin {
  return {
    onRequest({ request, serverContext }) {
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      const forwardedFor = req?.headers['x-forwarded-for'];
      limits.addresses.set(
        request,
        clientAddress(req?.socket?.remoteAddress, forwardedFor, limits.trustedProxyHops),
      );
    },
  };
}

export function rateLimitPlugins(
  limits: RateLimits,
  contextOptions: ContextOptions,
): { address: Plugin; admit: Plugin; answer: Plugin } {
  const pending = new WeakMap<Request, Promise<Admission | undefined>>();
  const refusalOf = async (request: Request | undefined): Promise<GraphQLError | undefined> =>
    request && (await pending.get(request))?.refusal;
  // Before execution (and before a subscription's source): the take must have answered.
  const refuseBeforeRunning = async ({ args, setResultAndStopExecution }: BeforeRunning) => {
    const refusal = await refusalOf((args.contextValue as { request?: Request }).request);
    if (refusal) setResultAndStopExecution({ errors: [refusal] });
  };
  const admit: Plugin = {
    async onParams({ request, params }) {
      const operation = limits.costs.ofText(params.query, params.operationName);
      if (streamed(request.headers.get('accept'), operation)) return;
      const caller = await callerOf(request, contextOptions);
      const address = limits.addresses.get(request) ?? 'unknown';
      const admission = limits.admit(caller, address, operation).then(
        (admitted) => {
          if (admitted) limits.admissions.set(request, admitted);
          return admitted;
        },
        (error: unknown) => {
          logger.error({ err: error }, 'rate limit check failed; the request passes');
          return undefined;
        },
      );
      if (caller) return void pending.set(request, admission);
      const refusal = (await admission)?.refusal;
      if (refusal) throw refusal; // yoga answers it at once; no later hook can change that
    },
    onExecute: refuseBeforeRunning,
    onSubscribe: refuseBeforeRunning,
  };
  const answer: Plugin = {
    async onExecutionResult({ request, setResult }) {
      const refusal = await refusalOf(request);
      if (refusal) setResult({ errors: [refusal] });
    },
    onResponse({ request, response }) {
      const admission = limits.admissions.get(request);
      if (!admission) return;
      for (const [name, value] of Object.entries(admission.headers))
        response.headers.set(name, value);
      // A cached answer that was there but refused is not what the client got.
      if (admission.refusal) response.headers.delete('x-cache');
    },
  };
  return { address: addressPlugin(limits), admit, answer };
}

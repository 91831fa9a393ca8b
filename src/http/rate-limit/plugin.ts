// Rate limits on /graphql as a yoga plugin: each request's client address as it arrives, the
// operation's cost taken from its caller's buckets as soon as yoga has its parameters (before
// the response cache, parsing, validation and execution), and the limit headers on its answer.
// A refusal is thrown: yoga answers it with 429, Retry-After and RATE_LIMITED at once, and no
// later hook (a cached hit, a live transport) can turn it into something else. Operations that
// negotiation sends to a live transport are counted there as they start (prepare-operation.ts).
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { callerOf, type ContextOptions } from '../context.js';
import { mayStream, negotiate } from '../negotiation.js';
import { clientAddress } from './client-address.js';
import type { RateLimits } from './limits.js';

function streamed(accept: string | null, kind: string): boolean {
  if (!mayStream(accept)) return false;
  const representation = negotiate(accept, kind === 'subscription' ? 'subscription' : 'single');
  return representation === 'event-stream' || representation === 'multipart';
}

export function rateLimitPlugin(limits: RateLimits, contextOptions: ContextOptions): Plugin {
  return {
    onRequest({ request, serverContext }) {
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      limits.addresses.set(
        request,
        clientAddress(
          req?.socket?.remoteAddress,
          req?.headers['x-forwarded-for'],
          limits.trustedProxyHops,
        ),
      );
    },
    async onParams({ request, params }) {
      const operation = limits.costs.ofText(params.query, params.operationName);
      if (streamed(request.headers.get('accept'), operation.kind)) return;
      const caller = await callerOf(request, contextOptions);
      const address = limits.addresses.get(request) ?? 'unknown';
      const admission = await limits.admit(caller, address, operation);
      if (!admission) return;
      limits.admissions.set(request, admission);
      if (admission.refusal) throw admission.refusal;
    },
    onResponse({ request, response }) {
      const admission = limits.admissions.get(request);
      if (!admission) return;
      for (const [name, value] of Object.entries(admission.headers))
        response.headers.set(name, value);
    },
  };
}

// The live transports' side of the rate limits: an operation counted as it starts (a
// subscription once, however long it runs), its admission kept for the HTTP answer's headers.
import type { GraphQLError } from 'graphql';
import type { Caller } from '../../services/auth/caller.js';
import type { OperationCost } from './cost.js';
import type { RateLimits } from './limits.js';

/** A request without a valid key: one token from its client address's bucket. */
export const ANONYMOUS: OperationCost = { kind: 'unknown', cost: 1 };

/** The refusal and its headers, or undefined when the operation may run. */
export async function admitLive(
  limits: RateLimits | undefined,
  request: Request,
  caller: Caller | undefined,
  operation: OperationCost,
): Promise<{ refusal: GraphQLError; headers: Record<string, string> } | undefined> {
  if (!limits) return undefined;
  const admission = await limits.admit(
    caller,
    limits.addresses.get(request) ?? 'unknown',
    operation,
  );
  if (!admission) return undefined;
  limits.admissions.set(request, admission);
  return admission.refusal ? { refusal: admission.refusal, headers: admission.headers } : undefined;
}

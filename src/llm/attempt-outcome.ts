// What an attempt's end means: its outcome from the error that ended it, whether the
// provider billed anything, and the error passed on with the secret taken out of it.
import type { LlmCallOutcome } from '../generated/prisma/enums.js';
import { ProviderError } from '../reports/writers/types.js';

export interface AttemptResult {
  outcome: LlmCallOutcome;
  /** Text reached the caller before it ended. */
  yielded: boolean;
  /** A TIMEOUT of the attempt's own (the provider went silent), not the caller's. */
  silent?: boolean;
  error?: unknown;
  status?: number;
  retryAfterMs?: number;
}

/** The secret replaced wherever it stands in `text` (one shorter than 4 would match by chance). */
export function withoutSecret(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
}

/** The secret out of error text: the provider may echo it (never in a message). */
export function redact(message: string, secret: string | undefined): string {
  let text = withoutSecret(message, secret);
  // A bearer token's characters (RFC 6750 b64token), not what follows it: ")" stays.
  text = text.replace(/(Bearer\s+)[\w.~+/-]+=*/gi, '$1[redacted]');
  return text;
}

export function classify(
  error: unknown,
  signal: AbortSignal,
): Omit<AttemptResult, 'yielded' | 'error'> {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    const timeout = reason?.name === 'TimeoutError' || reason?.message === 'timeout';
    return { outcome: timeout ? 'TIMEOUT' : 'ABORTED' };
  }
  if (!(error instanceof ProviderError)) return { outcome: 'ERROR' };
  const { status, detail } = error;
  const retryAfterMs = detail.retryAfterMs;
  if (detail.cut) return { outcome: 'CUT' };
  if (status === undefined) return { outcome: 'NETWORK_ERROR' };
  if (status === 401 || status === 403) return { outcome: 'REJECTED', status };
  if (status === 429) return { outcome: 'RATE_LIMITED', status, retryAfterMs };
  if (status === 408 || status === 409 || status >= 500)
    return { outcome: 'SERVER_ERROR', status, retryAfterMs };
  return { outcome: 'BAD_REQUEST', status };
}

/**
 * Outcomes of a request the provider refused or never got: with no text streamed, it
 * processed nothing, so nothing is billed (estimating the prompt charged budgets for 503s).
 */
export const REFUSED: ReadonlySet<LlmCallOutcome> = new Set([
  'BAD_REQUEST',
  'REJECTED',
  'RATE_LIMITED',
  'SERVER_ERROR',
  'NETWORK_ERROR',
]);

/** The error to pass on: the provider's, with the secret taken out of its message. */
export function safeError(
  error: unknown,
  secret: string | undefined,
  signal: AbortSignal,
): unknown {
  if (signal.aborted && !(error instanceof ProviderError)) return error;
  const message = redact((error as Error)?.message ?? String(error), secret);
  return error instanceof ProviderError
    ? new ProviderError(message, error.retryable, error.status, error.detail)
    : new ProviderError(message, true);
}

// What the provider adapters share about a failed HTTP call: whether it is worth retrying,
// how long the provider asked us to wait, and whether the stream was cut after it answered.
import { ProviderError } from '../../reports/writers/types.js';

/**
 * A connection lost after the provider answered 2xx is a stream cut (it took the prompt:
 * the attempt is metered), not a network error before it (nothing to meter).
 */
export function cutIfAnswered(error: unknown, answered: boolean): unknown {
  if (!answered || !(error instanceof ProviderError) || !error.detail.network) return error;
  return new ProviderError(error.message, true, undefined, { cut: true });
}

/** RFC 9110 §10.2.3 Retry-After (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMsOf(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** HTTP statuses worth retrying (the SDKs' own rule): timeouts, conflicts, rate limits, server errors. */
export const isRetryableStatus = (status: number | undefined) =>
  status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;

type ErrorClass<T extends Error = Error> = abstract new (...args: never[]) => T;

/** The error classes both official SDKs export: they share one error hierarchy. */
export interface SdkErrorClasses {
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIError: ErrorClass<Error & { status?: unknown; headers?: unknown }>;
}

/**
 * An SDK's error as the router's ProviderError: an abort is the signal's reason; a lost
 * connection (or a socket closed mid-stream, the fetch body's own error) is a retryable
 * network error; an HTTP error is retryable by its status, with the provider's Retry-After.
 * `sdk` undefined: the SDK itself failed to load, a retryable error like a lost connection.
 */
export function sdkProviderError(
  label: string,
  sdk: SdkErrorClasses | undefined,
  error: unknown,
  signal: AbortSignal,
): unknown {
  if (signal.aborted || (sdk && error instanceof sdk.APIUserAbortError))
    return signal.reason ?? error;
  if (sdk && error instanceof sdk.APIConnectionError)
    return new ProviderError(`${label}: ${error.message}`, true, undefined, { network: true });
  if (sdk && error instanceof sdk.APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    return new ProviderError(`${label}: ${error.message}`, isRetryableStatus(status), status, {
      retryAfterMs: retryAfterMsOf(error.headers as Headers | undefined),
    });
  }
  if (error instanceof ProviderError) return error;
  return new ProviderError(`${label}: ${(error as Error)?.message ?? error}`, true, undefined, {
    network: true,
  });
}

// graphql-sse's own client, as frontends use it, with helpers to collect events.
import { createClient, type Client, type ExecutionResult as SseResult } from 'graphql-sse';

type ExecutionResult<TData> = SseResult<TData, unknown>;

export interface SseClientOptions {
  url: string;
  key: string | null;
  singleConnection?: boolean;
}

export function sseClient(options: SseClientOptions): Client<boolean> {
  return createClient({
    url: options.url,
    singleConnection: options.singleConnection ?? false,
    headers: () =>
      options.key ? { authorization: `Bearer ${options.key}` } : ({} as Record<string, string>),
    retryAttempts: 0,
  });
}

/** Subscribes and collects every result until the server completes the operation. */
export function collect<TData = Record<string, unknown>>(
  client: Client<boolean>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<ExecutionResult<TData>[]> {
  const results: ExecutionResult<TData>[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe<TData, unknown>(
      { query, variables },
      {
        next: (value) => results.push(value),
        error: reject,
        complete: () => resolve(results),
      },
    );
  });
}

/** Subscribes and hands each result to `onNext`; returns a function that unsubscribes. */
export function listen<TData = Record<string, unknown>>(
  client: Client<boolean>,
  query: string,
  variables: Record<string, unknown>,
  onNext: (value: ExecutionResult<TData>) => void,
): { done: Promise<void>; unsubscribe: () => void } {
  let unsubscribe: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe<TData, unknown>(
      { query, variables },
      { next: onNext, error: reject, complete: resolve },
    );
  });
  return { done, unsubscribe };
}

// Live queries (`@live`) through the real protocol clients (graphql-sse in both modes,
// graphql-ws), each on its defaults: every result a client got, waited for by what it shows.
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Registry } from 'prom-client';
import type { Harness, TestApp } from './harness.js';
import { sseClient } from './sse.js';
import { waitFor } from './wait.js';

export interface LiveResult<T = any> {
  data?: T | null;
  errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
}

/** What graphql-sse's and graphql-ws's clients have in common. */
interface Subscriber {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> },
    sink: { next(value: any): void; error(error: unknown): void; complete(): void },
  ): () => void;
}

export interface Followed<T = any> {
  results: Array<LiveResult<T>>;
  /** Settles when the server ends the operation (rejects on a client error). */
  ended: Promise<void>;
  /** The latest result, once it satisfies `predicate`. */
  latest(predicate: (result: LiveResult<T>) => unknown, what: string): Promise<LiveResult<T>>;
  stop(): void;
}

export function follow<T = any>(
  client: Subscriber,
  query: string,
  variables: Record<string, unknown> = {},
): Followed<T> {
  const results: Array<LiveResult<T>> = [];
  let unsubscribe = () => {};
  const ended = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe(
      { query, variables },
      { next: (value) => results.push(value), error: reject, complete: resolve },
    );
  });
  ended.catch(() => {});
  return {
    results,
    ended,
    latest: (predicate, what) =>
      waitFor(
        async () => {
          const last = results.at(-1);
          return last && predicate(last) ? last : undefined;
        },
        what,
        15_000,
        async () => `the results were ${JSON.stringify(results)}`,
      ),
    stop: () => unsubscribe(),
  };
}

export type Transport = 'sse' | 'sse-single' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['sse', 'sse-single', 'ws'];

/** A client of `transport` for `key`, disposed at the end of the file. */
export function liveClient(
  h: Harness,
  app: Pick<TestApp, 'baseUrl'>,
  transport: Transport,
  key: string,
) {
  if (transport === 'ws') {
    const ws = createWsClient({
      url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
      connectionParams: { authorization: `Bearer ${key}` },
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    h.onCleanup(() => ws.dispose());
    return ws as Subscriber;
  }
  const sse = sseClient({
    url: `${app.baseUrl}/graphql/stream`,
    key,
    singleConnection: transport === 'sse-single',
  });
  h.onCleanup(() => sse.dispose());
  return sse as Subscriber;
}

/** graphql_live_query_executions_total of an app. */
export async function liveExecutions(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('graphql_live_query_executions_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

/** Lets every callback already due run (pub/sub in the process delivers within the turn). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

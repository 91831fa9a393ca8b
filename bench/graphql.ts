// GraphQL in process: the real yoga app (auth, Pothos, Prisma) through app.fetch.
import { connectDatabase, db, disconnectDatabase } from '../src/platform/db.js';
import { createInProcessPubSub } from '../src/platform/pubsub.js';
import type { App } from '../src/http/app.js';
import { benchApp } from './service.js';
import { formatSummary, line, summarize, timeRuns } from './stats.js';

/** Any string of 16+ characters: the app's ADMIN_API_KEY for this run. */
export const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef';

/** The app on an in-process pub/sub; `close` stops what it was made with. */
export function createBenchApp(): Promise<{ app: App; close(): Promise<void> }> {
  return benchApp(ADMIN_API_KEY, createInProcessPubSub('bench:'));
}

export interface GraphQLResponse<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export async function gql<T = Record<string, unknown>>(
  app: App,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<T>> {
  const response = await app.fetch(
    new Request('http://bench/graphql', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = (await response.json()) as GraphQLResponse<T>;
  if (body.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body;
}

/** The same-run baseline for GraphQL figures: `{ __typename }` (parse, auth, execute, no resolver SQL). */
export async function graphqlBaseline(app: App, runs = 200): Promise<number> {
  const summary = summarize(await timeRuns(runs, () => gql(app, '{ __typename }'), 10));
  line('baseline: { __typename } through app.fetch', formatSummary(summary));
  return summary.p50;
}

export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

/**
 * The statements Prisma sends while `run` runs, with their parameters: the client is
 * reconnected with query logging for the capture only (logging costs time), then
 * reconnected plain.
 */
export async function captureStatements(
  url: string,
  run: () => Promise<unknown>,
): Promise<CapturedStatement[]> {
  const captured: CapturedStatement[] = [];
  await disconnectDatabase();
  const client = connectDatabase(url, { onQuery: () => {} });
  (
    client as unknown as {
      $on(event: 'query', listener: (e: { query: string; params: string }) => void): void;
    }
  ).$on('query', (event) =>
    captured.push({ sql: event.query, params: JSON.parse(event.params) as unknown[] }),
  );
  try {
    await run();
  } finally {
    await disconnectDatabase();
    connectDatabase(url);
  }
  await db().$queryRaw`SELECT 1`;
  return captured;
}

// @defer and @stream through the client libraries on their defaults (tests/client/recipes.ts):
// Apollo Client 4 with Defer20220824Handler over HttpLink, urql's fetchExchange, and urql's
// subscriptionExchange for every operation over graphql-sse and over graphql-ws. Each client
// first gives the result without the deferred coverage, then the whole one; streamed hits come
// one result per payload, the first hit alone before the others. (graphql-sse's and graphql-ws'
// own clients, and plain fetch: defer-stream.test.ts.)
import { NetworkStatus, type ApolloClient } from '@apollo/client';
import type { Client as UrqlClient } from '@urql/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipe, subscribe } from 'wonka';
import { AgentWithDeferredCoverageQuery, StreamedHitsQuery } from '../client/operations.js';
import {
  apolloWithDefer,
  urqlClient,
  urqlWithGraphqlSse,
  urqlWithGraphqlWs,
} from '../client/recipes.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { PLAIN_HITS, SEARCH_TEXT, searchAgent } from '../utils/incremental.js';

const h = useHarness();

/** What a client gave, in order: the data of each result, and whether more was to come. */
type Observed = Array<{ data: any; more: boolean }>;

/**
 * Every result Apollo's watchQuery gives until it is ready (the loading state aside): while
 * payloads come its network status is `streaming` (its dataState says `streaming` only while a
 * @defer is pending; for @stream it says `complete` at once).
 */
function withApollo(client: ApolloClient, query: any, variables: Record<string, unknown>) {
  return new Promise<Observed>((resolve, reject) => {
    const seen: Observed = [];
    const watched = client.watchQuery({ query, variables, fetchPolicy: 'network-only' }).subscribe({
      next: (result) => {
        if (result.error) return reject(result.error);
        if (result.networkStatus === NetworkStatus.loading) return;
        seen.push({ data: result.data, more: result.networkStatus === NetworkStatus.streaming });
        if (result.networkStatus === NetworkStatus.ready) {
          watched.unsubscribe();
          resolve(seen);
        }
      },
      error: reject,
    });
  });
}

/** Every result urql gives for the query until hasNext is false. */
function withUrql(client: UrqlClient, query: any, variables: Record<string, unknown>) {
  return new Promise<Observed>((resolve, reject) => {
    const seen: Observed = [];
    const { unsubscribe } = pipe(
      client.query(query, variables, { requestPolicy: 'network-only' }),
      subscribe((result) => {
        if (result.error) return reject(result.error);
        seen.push({ data: result.data, more: result.hasNext === true });
        if (!result.hasNext) {
          setImmediate(() => unsubscribe());
          resolve(seen);
        }
      }),
    );
  });
}

let app: TestApp;
let agentId: string;
let plainHits: { totalResults: number; hits: unknown[] };

beforeAll(async () => {
  app = await h.startApp();
  agentId = await searchAgent(h);
  const plain = await h.gql(PLAIN_HITS, { agentId, query: SEARCH_TEXT });
  expect(plain.errors).toBeUndefined();
  plainHits = plain.data.queryAgent;
  expect(plainHits.hits.length).toBeGreaterThanOrEqual(2);
});

/** The agent first without its coverage, last with it; nothing after the whole. */
function expectCoverageLater(observed: Observed) {
  expect(observed.length).toBeGreaterThanOrEqual(2);
  const [first] = observed;
  expect(first!.data.agent).toEqual({
    __typename: first!.data.agent.__typename,
    id: agentId,
    name: 'Incremental agent',
  });
  expect(first!.more).toBe(true);
  const last = observed.at(-1)!;
  expect(last.more).toBe(false);
  expect(last.data.agent).toMatchObject({
    id: agentId,
    name: 'Incremental agent',
    coverage: { overallCoverage: expect.any(Number), totalDocuments: expect.any(Number) },
  });
}

/** Totals first with no hits, then the first hit alone, and at last every hit in rank order. */
function expectHitsOneByOne(observed: Observed) {
  const hitsOf = (index: number) =>
    observed[index]!.data.queryAgent.hits.map(({ __typename: _, ...hit }: any) => hit);
  expect(observed[0]!.data.queryAgent.totalResults).toBe(plainHits.totalResults);
  expect(hitsOf(0)).toEqual([]);
  expect(hitsOf(1)).toEqual([plainHits.hits[0]]);
  expect(observed[1]!.more).toBe(true);
  expect(hitsOf(observed.length - 1)).toEqual(plainHits.hits);
  expect(observed.at(-1)!.more).toBe(false);
}

describe('@defer and @stream with the client libraries', () => {
  it('Apollo Client 4: Defer20220824Handler over HttpLink', async () => {
    const client = apolloWithDefer(app.baseUrl, h.adminKey);
    h.onCleanup(() => client.stop());
    expectCoverageLater(await withApollo(client, AgentWithDeferredCoverageQuery, { id: agentId }));
    expectHitsOneByOne(
      await withApollo(client, StreamedHitsQuery, { agentId, query: SEARCH_TEXT }),
    );
  });

  it("urql's fetchExchange on its defaults (multipart/mixed)", async () => {
    const client = urqlClient(app.baseUrl, h.adminKey);
    expectCoverageLater(await withUrql(client, AgentWithDeferredCoverageQuery, { id: agentId }));
    expectHitsOneByOne(await withUrql(client, StreamedHitsQuery, { agentId, query: SEARCH_TEXT }));
  });

  for (const [name, make] of [
    ['graphql-sse', urqlWithGraphqlSse],
    ['graphql-ws', urqlWithGraphqlWs],
  ] as const) {
    it(`urql's subscriptionExchange for every operation over ${name}`, async () => {
      const { client, dispose } = make(app.baseUrl, h.adminKey, { allOperations: true });
      h.onCleanup(dispose);
      expectCoverageLater(await withUrql(client, AgentWithDeferredCoverageQuery, { id: agentId }));
      expectHitsOneByOne(
        await withUrql(client, StreamedHitsQuery, { agentId, query: SEARCH_TEXT }),
      );
    });
  }
});

// The README's client recipes as code the tests run: each makes a client the way a frontend
// would, with the real library on its defaults. `url` is the API's origin, `key` an API key.
// (In a browser, graphql-ws uses the global WebSocket; Node 20 has none, so `ws` is passed.)
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { cacheExchange, Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { Kind, print, type DocumentNode } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const wsUrl = (url: string) => `${url.replace(/^http/, 'ws')}/graphql`;

/**
 * urql on its defaults: queries and mutations over fetch, subscriptions too (`fetchSubscriptions`);
 * @defer and @stream arrive as multipart/mixed (urql's default Accept), merged by urql.
 */
export function urqlClient(url: string, key: string) {
  return new Client({
    url: `${url}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    fetchSubscriptions: true,
    fetchOptions: { headers: auth(key) },
  });
}

type UrqlForward = Parameters<typeof subscriptionExchange>[0]['forwardSubscription'];

/** urql with `forward` for subscriptions, and for queries and mutations too with `allOperations`. */
function urqlForwarding(url: string, key: string, forward: UrqlForward, allOperations: boolean) {
  return new Client({
    url: `${url}/graphql`,
    fetchOptions: { headers: auth(key) },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({ forwardSubscription: forward, enableAllOperations: allOperations }),
    ],
  });
}

/**
 * urql with subscriptions over graphql-ws; with `allOperations`, queries and mutations too
 * (then @defer and @stream arrive as the WebSocket's next messages).
 */
export function urqlWithGraphqlWs(url: string, key: string, { allOperations = false } = {}) {
  const ws = createWsClient({
    url: wsUrl(url),
    connectionParams: auth(key),
    webSocketImpl: WebSocket,
  });
  const client = urqlForwarding(
    url,
    key,
    (request) => ({
      subscribe: (sink) => ({
        unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
      }),
    }),
    allOperations,
  );
  return { client, dispose: () => ws.dispose() };
}

/**
 * urql with subscriptions over graphql-sse (single connection: one stream for every
 * subscription); with `allOperations`, queries and mutations too.
 */
export function urqlWithGraphqlSse(url: string, key: string, { allOperations = false } = {}) {
  const sse = createSseClient({
    url: `${url}/graphql/stream`,
    headers: auth(key),
    singleConnection: true,
  });
  const client = urqlForwarding(
    url,
    key,
    (request) => ({
      subscribe: (sink) => ({
        unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink),
      }),
    }),
    allOperations,
  );
  return { client, dispose: () => sse.dispose() };
}

/** Apollo Client with a plain HttpLink: subscriptions use Apollo's multipart protocol on /graphql. */
export function apolloHttp(url: string, key: string) {
  return new ApolloClient({
    link: new HttpLink({ uri: `${url}/graphql`, headers: auth(key) }),
    cache: new InMemoryCache(),
  });
}

/**
 * Apollo Client 4 with @defer and @stream: its Defer20220824Handler asks /graphql for
 * multipart/mixed;deferSpec=20220824 and merges each payload into the result it emits.
 */
export function apolloWithDefer(url: string, key: string) {
  return new ApolloClient({
    link: new HttpLink({ uri: `${url}/graphql`, headers: auth(key) }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
}

const isSubscription = ({ query }: ApolloLink.Operation) => {
  const definition = getMainDefinition(query);
  return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
};

/** Apollo Client with subscriptions over graphql-ws (GraphQLWsLink), the rest over HTTP. */
export function apolloWithGraphqlWs(url: string, key: string) {
  const ws = createWsClient({
    url: wsUrl(url),
    connectionParams: auth(key),
    webSocketImpl: WebSocket,
  });
  const link = ApolloLink.split(
    isSubscription,
    new GraphQLWsLink(ws),
    new HttpLink({ uri: `${url}/graphql`, headers: auth(key) }),
  );
  return {
    client: new ApolloClient({ link, cache: new InMemoryCache() }),
    dispose: () => ws.dispose(),
  };
}

/** An Apollo link over a graphql-sse client (Apollo ships none). */
class GraphqlSseLink extends ApolloLink {
  constructor(private readonly sse: ReturnType<typeof createSseClient>) {
    super();
  }

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    return new Observable((sink) =>
      this.sse.subscribe<ApolloLink.Result>(
        { ...operation, query: print(operation.query) },
        {
          next: (value) => sink.next(value as ApolloLink.Result),
          complete: () => sink.complete(),
          error: (error) => sink.error(error),
        },
      ),
    );
  }
}

/** Apollo Client with subscriptions over graphql-sse, the rest over HTTP. */
export function apolloWithGraphqlSse(url: string, key: string) {
  const sse = createSseClient({
    url: `${url}/graphql/stream`,
    headers: auth(key),
    singleConnection: true,
  });
  const link = ApolloLink.split(
    isSubscription,
    new GraphqlSseLink(sse),
    new HttpLink({ uri: `${url}/graphql`, headers: auth(key) }),
  );
  return {
    client: new ApolloClient({ link, cache: new InMemoryCache() }),
    dispose: () => sse.dispose(),
  };
}

/** sha256 in hex, with Web Crypto (browsers and Node alike). */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}

/**
 * Apollo Client sending trusted documents by hash alone: codegen's client preset
 * (persistedDocuments) puts each document's hash in `__meta__.hash`, and the server knows the
 * manifest (docs/clients.md). A document without one is hashed as printed, which a server
 * under TRUSTED_DOCUMENTS_ONLY refuses once Apollo resends its text.
 */
export function apolloTrustedDocuments(url: string, key: string, fetchImpl = fetch) {
  const persisted = new PersistedQueryLink({
    generateHash: (document: DocumentNode) =>
      (document as { __meta__?: { hash?: string } }).__meta__?.hash ?? sha256(print(document)),
  });
  return new ApolloClient({
    link: persisted.concat(
      new HttpLink({ uri: `${url}/graphql`, headers: auth(key), fetch: fetchImpl }),
    ),
    cache: new InMemoryCache(),
  });
}

// Live queries (`@live`, docs/clients.md "Live queries"): the server answers one now and again
// as a stream (graphql-sse, graphql-ws or multipart). urql's defaults take it as it comes:
// `urqlClient` above gets every result over fetch (urql accepts an event stream), and so do the
// two clients below, which send every operation over their socket (`enableAllOperations`).

/** urql with every operation (live queries too) over graphql-ws. */
export function urqlOverGraphqlWs(url: string, key: string) {
  const ws = createWsClient({
    url: wsUrl(url),
    connectionParams: auth(key),
    webSocketImpl: WebSocket,
  });
  const client = new Client({
    url: `${url}/graphql`,
    exchanges: [
      cacheExchange,
      subscriptionExchange({
        enableAllOperations: true,
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  return { client, dispose: () => ws.dispose() };
}

/** urql with every operation (live queries too) over graphql-sse (one stream for all). */
export function urqlOverGraphqlSse(url: string, key: string) {
  const sse = createSseClient({
    url: `${url}/graphql/stream`,
    headers: auth(key),
    singleConnection: true,
  });
  const client = new Client({
    url: `${url}/graphql`,
    exchanges: [
      cacheExchange,
      subscriptionExchange({
        enableAllOperations: true,
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  return { client, dispose: () => sse.dispose() };
}

/** A query marked `@live`. */
export function isLiveQuery(query: DocumentNode): boolean {
  const definition = getMainDefinition(query);
  return (
    definition.kind === Kind.OPERATION_DEFINITION &&
    definition.operation === 'query' &&
    Boolean(definition.directives?.some((directive) => directive.name.value === 'live'))
  );
}

/**
 * Apollo Client with a plain HttpLink, live queries included: a live query asks for Apollo's
 * multipart subscription protocol (an HttpLink asks for JSON, which carries the first result
 * only). Watch it (watchQuery, useQuery): each result replaces the last in the cache.
 */
export function apolloLiveHttp(url: string, key: string) {
  const liveOverMultipart = new ApolloLink((operation, forward) => {
    if (isLiveQuery(operation.query))
      operation.setContext(({ http }: { http?: { accept?: string[] } }) => ({
        http: {
          ...http,
          accept: ['multipart/mixed;subscriptionSpec=1.0', ...(http?.accept ?? [])],
        },
      }));
    return forward(operation);
  });
  return new ApolloClient({
    link: liveOverMultipart.concat(new HttpLink({ uri: `${url}/graphql`, headers: auth(key) })),
    cache: new InMemoryCache(),
  });
}

/** Apollo Client with subscriptions and live queries over graphql-ws, the rest over HTTP. */
export function apolloLiveWithGraphqlWs(url: string, key: string) {
  const ws = createWsClient({
    url: wsUrl(url),
    connectionParams: auth(key),
    webSocketImpl: WebSocket,
  });
  const link = ApolloLink.split(
    (operation) => isSubscription(operation) || isLiveQuery(operation.query),
    new GraphQLWsLink(ws),
    new HttpLink({ uri: `${url}/graphql`, headers: auth(key) }),
  );
  return {
    client: new ApolloClient({ link, cache: new InMemoryCache() }),
    dispose: () => ws.dispose(),
  };
}

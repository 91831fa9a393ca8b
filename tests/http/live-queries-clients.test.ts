// Live queries (`@live`) with the client libraries frontends use, on their defaults and the
// recipes of docs/clients.md (tests/client/recipes.ts): urql over fetch (an event stream, or
// multipart when a query asks for it) and over graphql-ws and graphql-sse; Apollo Client 4
// over its HttpLink (multipart) and GraphQLWsLink, watching the query. Then two API
// processes on one Redis: a change in either reaches the other's live queries.
import type { ApolloClient } from '@apollo/client';
import type { Client as UrqlClient } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { pipe, subscribe } from 'wonka';
import { LiveAgentsQuery } from '../client/operations.js';
import {
  apolloHttp,
  apolloLiveHttp,
  apolloLiveWithGraphqlWs,
  urqlClient,
  urqlOverGraphqlSse,
  urqlOverGraphqlWs,
} from '../client/recipes.js';
import { graphql } from '../utils/graphql.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { follow, liveClient } from '../utils/live-queries.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { createAgent, overHttp, RENAME } from '../utils/response-cache.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
const VARIABLES = { first: 20 };
const LIVE = `query AcrossProcesses @live { agents(first: 20) { edges { node { id name } } } }`;

type Seen = Array<{ names?: string[]; error?: unknown }>;
const namesOf = (data: any): string[] | undefined =>
  data?.agents.edges.map((edge: { node: { name: string } }) => edge.node.name);

/** Every result a client shows for the live query, until `stop`. */
function watchUrql(client: UrqlClient, context?: Parameters<UrqlClient['query']>[2]) {
  const seen: Seen = [];
  const { unsubscribe } = pipe(
    client.query(LiveAgentsQuery, VARIABLES, { requestPolicy: 'network-only', ...context }),
    subscribe((result) => seen.push({ names: namesOf(result.data), error: result.error })),
  );
  return { seen, stop: unsubscribe };
}

function watchApollo(client: ApolloClient) {
  const seen: Seen = [];
  const subscription = client
    .watchQuery({ query: LiveAgentsQuery, variables: VARIABLES })
    .subscribe({
      next: (result) => seen.push({ names: namesOf(result.data), error: result.error }),
      error: (error) => seen.push({ error }),
    });
  return { seen, stop: () => subscription.unsubscribe() };
}

/** Renames the agent and waits until every watcher shows it, each with no error on the way. */
async function renameAndSee(
  agentId: string,
  name: string,
  watchers: ReadonlyArray<{ seen: Seen }>,
): Promise<void> {
  expect((await h.gql(RENAME, { id: agentId, name })).errors).toBeUndefined();
  for (const { seen } of watchers) {
    await waitFor(
      async () => seen.at(-1)?.names?.includes(name),
      `${name} in the client`,
      15_000,
      async () => JSON.stringify(seen),
    );
    expect(seen.filter((each) => each.error)).toEqual([]);
  }
}

describe('live queries with urql and Apollo Client', () => {
  it('urql: on its defaults over fetch (an event stream), multipart when asked, and over graphql-ws and graphql-sse', async () => {
    const app = await h.startApp();
    const agentId = await createAgent(h, h.adminKey, 'urql first');
    const overFetch = watchUrql(urqlClient(app.baseUrl, h.adminKey));
    const multipart = watchUrql(urqlClient(app.baseUrl, h.adminKey), {
      // An operation's fetchOptions replace the client's: the key goes again.
      fetchOptions: {
        headers: { authorization: `Bearer ${h.adminKey}`, accept: 'multipart/mixed' },
      },
    });
    const ws = urqlOverGraphqlWs(app.baseUrl, h.adminKey);
    const sse = urqlOverGraphqlSse(app.baseUrl, h.adminKey);
    h.onCleanup(() => (ws.dispose(), sse.dispose()));
    const watchers = [overFetch, multipart, watchUrql(ws.client), watchUrql(sse.client)];
    for (const { seen } of watchers)
      await waitFor(async () => seen.at(-1)?.names?.includes('urql first'), 'the first result');
    await renameAndSee(agentId, 'urql second', watchers);
    await renameAndSee(agentId, 'urql third', watchers);
    for (const watcher of watchers) watcher.stop();
  });

  it('Apollo Client 4: watchQuery over an HttpLink asking multipart, and over GraphQLWsLink', async () => {
    const app = await h.startApp();
    const agentId = await createAgent(h, h.adminKey, 'Apollo first');
    const http = apolloLiveHttp(app.baseUrl, h.adminKey);
    const ws = apolloLiveWithGraphqlWs(app.baseUrl, h.adminKey);
    h.onCleanup(() => (http.stop(), ws.client.stop(), ws.dispose()));
    const watchers = [watchApollo(http), watchApollo(ws.client)];
    for (const { seen } of watchers)
      await waitFor(async () => seen.at(-1)?.names?.includes('Apollo first'), 'the first result');
    await renameAndSee(agentId, 'Apollo second', watchers);
    await renameAndSee(agentId, 'Apollo third', watchers);
    for (const watcher of watchers) watcher.stop();

    // A plain HttpLink asks for JSON: the first result, once (client.query settles with it).
    const plain = apolloHttp(app.baseUrl, h.adminKey);
    h.onCleanup(() => plain.stop());
    const once = await plain.query({ query: LiveAgentsQuery, variables: VARIABLES });
    expect(namesOf(once.data)).toContain('Apollo third');
  });
});

describe('live queries across API processes', () => {
  it.skipIf(!redisAvailable)(
    "a change in one API process reaches the other's live queries, both ways",
    async () => {
      const local = await h.startApp({ pubsub: 'redis' });
      await local.app.liveQueriesReady;
      const service = spawnServiceProcess(
        h,
        {
          ROLE: 'api',
          PORT: '0',
          HOST: '127.0.0.1',
          ADMIN_API_KEY: h.adminKey,
          REDIS_URL: h.redisUrl!,
          LOAD_DEMO_DATA: 'false',
        },
        /"port":(\d+)[^\n]*API listening/,
      );
      const port = /"port":(\d+)/.exec(await service.ready)![1];
      const remote = { baseUrl: `http://127.0.0.1:${port}` };
      const agentId = await createAgent(h, h.adminKey, 'Process one');
      const rename = (url: string, name: string) =>
        graphql(
          overHttp,
          RENAME,
          { id: agentId, name },
          { key: h.adminKey, url: `${url}/graphql` },
        );

      const onLocal = follow(liveClient(h, local, 'sse', h.adminKey), LIVE);
      const onRemote = follow(liveClient(h, remote, 'ws', h.adminKey), LIVE);
      const showing = (name: string) => (r: any) => namesOf(r.data)?.includes(name);
      await onLocal.latest(showing('Process one'), 'the first result here');
      await onRemote.latest(showing('Process one'), 'the first result there');

      // Renamed in the other process: this one's live query shows it, and so does its own.
      expect((await rename(remote.baseUrl, 'Renamed there')).errors).toBeUndefined();
      await onLocal.latest(showing('Renamed there'), 'the rename there, here');
      await onRemote.latest(showing('Renamed there'), 'the rename there, there');
      // And the other way.
      expect((await rename(local.baseUrl, 'Renamed here')).errors).toBeUndefined();
      await onRemote.latest(showing('Renamed here'), 'the rename here, there');
      await onLocal.latest(showing('Renamed here'), 'the rename here, here');
      onLocal.stop();
      onRemote.stop();
      await service.kill();
    },
  );
});

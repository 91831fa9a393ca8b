// Apollo Client 4 as frontends use it, against a real server: a plain HttpLink (queries,
// mutations, and subscriptions over Apollo's multipart protocol), then subscriptions over
// GraphQLWsLink and over a graphql-sse link. Each follows a background task from PENDING to
// COMPLETED and streams a query.
import { afterEach, describe, it } from 'vitest';
import { apolloHttp, apolloWithGraphqlSse, apolloWithGraphqlWs } from '../client/recipes.js';
import { apolloUnderTest } from '../utils/client-adapters.js';
import { followTaskAndStreamQuery } from '../utils/client-scenario.js';
import { redisAvailable, useHarness } from '../utils/harness.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

describe('Apollo Client', () => {
  it('works with a plain HttpLink: multipart subscriptions on /graphql', async () => {
    const app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
    const client = apolloHttp(app.baseUrl, h.adminKey);
    h.onCleanup(() => client.stop());
    await followTaskAndStreamQuery(h, app, apolloUnderTest(client));
  });

  it('works with GraphQLWsLink for subscriptions', async () => {
    const app = await h.startApp();
    const { client, dispose } = apolloWithGraphqlWs(app.baseUrl, h.adminKey);
    h.onCleanup(dispose);
    await followTaskAndStreamQuery(h, app, apolloUnderTest(client));
  });

  it('works with a graphql-sse link for subscriptions', async () => {
    const app = await h.startApp();
    const { client, dispose } = apolloWithGraphqlSse(app.baseUrl, h.adminKey);
    h.onCleanup(dispose);
    await followTaskAndStreamQuery(h, app, apolloUnderTest(client));
  });
});

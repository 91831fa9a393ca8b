// urql 6 as frontends use it, against a real server: its default exchanges (queries,
// mutations and fetchSubscriptions over /graphql, with urql's own Accept header), then with
// subscriptions over graphql-ws and over graphql-sse. Each follows a background task from
// PENDING to COMPLETED and streams a query.
import { afterEach, describe, expect, it } from 'vitest';
import { urqlClient, urqlWithGraphqlSse, urqlWithGraphqlWs } from '../client/recipes.js';
import { urqlUnderTest } from '../utils/client-adapters.js';
import { followTaskAndStreamQuery } from '../utils/client-scenario.js';
import { redisAvailable, useHarness } from '../utils/harness.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

describe('urql', () => {
  it('works on its defaults: mutations, queries (POST and GET) and fetchSubscriptions', async () => {
    const app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
    const client = urqlClient(app.baseUrl, h.adminKey);
    await followTaskAndStreamQuery(h, app, urqlUnderTest(client));
    // urql's GET for queries (preferGetMethod) lists JSON first: a JSON answer, not an event stream.
    const { Client, fetchExchange } = await import('@urql/core');
    const getClient = new Client({
      url: `${app.baseUrl}/graphql`,
      exchanges: [fetchExchange],
      preferGetMethod: 'force',
      fetchOptions: { headers: { authorization: `Bearer ${h.adminKey}` } },
    });
    const viewer = await getClient.query('{ viewer { user } }', {}).toPromise();
    expect(viewer.error).toBeUndefined();
    expect(viewer.data).toEqual({ viewer: { user: 'admin' } });
  });

  it('works with subscriptions over graphql-ws', async () => {
    const app = await h.startApp();
    const { client, dispose } = urqlWithGraphqlWs(app.baseUrl, h.adminKey);
    h.onCleanup(dispose);
    await followTaskAndStreamQuery(h, app, urqlUnderTest(client));
  });

  it('works with subscriptions over graphql-sse', async () => {
    const app = await h.startApp();
    const { client, dispose } = urqlWithGraphqlSse(app.baseUrl, h.adminKey);
    h.onCleanup(dispose);
    await followTaskAndStreamQuery(h, app, urqlUnderTest(client));
  });
});

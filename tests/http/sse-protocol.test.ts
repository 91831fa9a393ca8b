// The graphql-sse protocol (PROTOCOL.md) at /graphql/stream in both modes, and
// distinct connections at /graphql, with graphql-sse's own client and raw requests.
import { request, type IncomingMessage } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CreateApiKeyMutation } from '../client/operations.js';
import { graphqlSseUnderTest } from '../utils/client-adapters.js';
import { followTaskAndStreamQuery } from '../utils/client-scenario.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { collect, sseClient } from '../utils/sse.js';

const h = useHarness();
const viewer = '{ viewer { user scopes } }';

async function eventStreamPost(
  url: string,
  query: string,
  key: string | null,
  extra: Record<string, string> = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    ...extra,
  };
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
}

describe('graphql-sse', () => {
  for (const singleConnection of [false, true]) {
    it(`follows a background task and streams a query with graphql-sse's client (${singleConnection ? 'single connection' : 'distinct connections'})`, async () => {
      const app = await h.startApp({ pubsub: redisAvailable ? 'redis' : 'in-process' });
      const client = sseClient({
        url: `${app.baseUrl}/graphql/stream`,
        key: h.adminKey,
        singleConnection,
      });
      h.onCleanup(() => client.dispose());
      await followTaskAndStreamQuery(h, app, graphqlSseUnderTest(client));
      await h.stopWorkers();
    });
  }

  for (const [name, path, singleConnection] of [
    ['distinct connections at /graphql/stream', '/graphql/stream', false],
    ['single connection at /graphql/stream', '/graphql/stream', true],
    ['distinct connections at /graphql', '/graphql', false],
  ] as const) {
    it(`runs an operation over ${name}`, async () => {
      const app = await h.startApp();
      const client = sseClient({ url: `${app.baseUrl}${path}`, key: h.adminKey, singleConnection });
      h.onCleanup(() => client.dispose());
      const results = await collect(client, viewer);
      expect(results).toEqual([
        { data: { viewer: { user: 'admin', scopes: expect.arrayContaining(['ADMIN']) } } },
      ]);
    });
  }

  it('answers a validation error in distinct mode as a `next` event on an accepted stream', async () => {
    const app = await h.startApp();
    const response = await eventStreamPost(
      `${app.baseUrl}/graphql/stream`,
      '{ viewer { noSuchField } }',
      h.adminKey,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = await response.text();
    expect(body).toMatch(
      /event: next\ndata: \{"errors":\[\{"message":"Cannot query field \\"noSuchField\\"/,
    );
    expect(body).not.toContain('"http"');
    expect(body).toContain('event: complete');
  });

  it('answers subscription request errors with their codes and nothing internal', async () => {
    const app = await h.startApp();
    const progress =
      'subscription($id: ID!, $after: Int) { taskProgress(taskId: $id, afterSequence: $after) { sequence } }';
    const unknownTask = Buffer.from('Task:00000000-0000-0000-0000-000000000000').toString('base64');
    // Distinct connections: a bad variable arrives on the accepted stream (PROTOCOL.md), as an unknown task does.
    const distinct = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => distinct.dispose());
    const wrongType = await collect(distinct, progress, { id: unknownTask, after: 'seven' });
    const unknown = await collect(distinct, progress, { id: unknownTask });
    expect([...wrongType, ...unknown].map((r) => r.errors?.[0]?.extensions?.code)).toEqual([
      'BAD_USER_INPUT',
      'NOT_FOUND',
    ]);
    for (const result of [...wrongType, ...unknown]) {
      expect(result.data ?? null).toBeNull();
      expect(JSON.stringify(result)).not.toMatch(/stack|"http"|originalError/);
    }
    // Single connection: the unknown task is a result on the stream; the bad variable is refused on the POST.
    const single = sseClient({
      url: `${app.baseUrl}/graphql/stream`,
      key: h.adminKey,
      singleConnection: true,
    });
    h.onCleanup(() => single.dispose());
    expect(
      (await collect(single, progress, { id: unknownTask })).map(
        (r) => r.errors?.[0]?.extensions?.code,
      ),
    ).toEqual(['NOT_FOUND']);
    const refused = await collect(single, progress, { id: unknownTask, after: 'seven' }).catch(
      (error: unknown) => error,
    );
    expect(String(refused)).toMatch(/400/);
  });

  it('answers a request error in single-connection mode as GraphQL over HTTP does: 400 with JSON', async () => {
    const app = await h.startApp();
    const headers = { authorization: `Bearer ${h.adminKey}` };
    const token = await (
      await fetch(`${app.baseUrl}/graphql/stream`, { method: 'PUT', headers })
    ).text();
    const post = (query: string) =>
      fetch(`${app.baseUrl}/graphql/stream`, {
        method: 'POST',
        headers: {
          ...headers,
          'x-graphql-event-stream-token': token,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ query, extensions: { operationId: '1' } }),
      });
    // The same codes as a POST to /graphql gives them.
    for (const [query, code] of [
      ['{ viewer { noSuchField } }', 'GRAPHQL_VALIDATION_FAILED'],
      ['{ viewer {', 'GRAPHQL_PARSE_FAILED'],
    ]) {
      const response = await post(query!);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('json');
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe(code);
      expect(JSON.stringify(body)).not.toMatch(/stack|"http"|originalError/);
    }
    expect((await post(viewer)).status).toBe(202);
  });

  it('answers 404 for an unknown token of the caller, on every method but PUT', async () => {
    const app = await h.startApp();
    const headers = { authorization: `Bearer ${h.adminKey}` };
    const token = await (
      await fetch(`${app.baseUrl}/graphql/stream`, { method: 'PUT', headers })
    ).text();
    const unknown = `${token.split('.')[0]}.00000000-0000-0000-0000-000000000000`;
    const withToken = { ...headers, 'x-graphql-event-stream-token': unknown };
    const requests: Array<[string, RequestInit]> = [
      ['GET', { headers: { ...withToken, accept: 'text/event-stream' } }],
      [
        'POST',
        {
          method: 'POST',
          headers: { ...withToken, 'content-type': 'application/json' },
          body: JSON.stringify({ query: viewer, extensions: { operationId: '1' } }),
        },
      ],
      ['DELETE', { method: 'DELETE', headers: withToken }],
    ];
    for (const [, init] of requests) {
      const response = await fetch(`${app.baseUrl}/graphql/stream?operationId=1`, init);
      expect(response.status).toBe(404);
      expect((await response.json()).errors[0].extensions.code).toBe('NOT_FOUND');
    }
  });

  it('reserves a new stream on every PUT, so back-to-back subscriptions with a plain headers object never conflict', async () => {
    const app = await h.startApp();
    // The README's example: headers as a plain object, into which the client writes its token.
    const { createClient } = await import('graphql-sse');
    const client = createClient({
      url: `${app.baseUrl}/graphql/stream`,
      singleConnection: true,
      headers: { authorization: `Bearer ${h.adminKey}` },
      retryAttempts: 0,
    });
    h.onCleanup(() => client.dispose());
    for (let i = 0; i < 20; i++)
      expect(await collect(client, viewer)).toEqual([
        { data: { viewer: expect.objectContaining({ user: 'admin' }) } },
      ]);
  });

  it('delivers the same validation error through the client, then completes', async () => {
    const app = await h.startApp();
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    const results = await collect(client, '{ viewer { noSuchField } }');
    expect(results).toHaveLength(1);
    expect(results[0]!.errors?.[0]?.message).toMatch(/noSuchField/);
  });

  it('refuses an event stream without a key with 401 UNAUTHENTICATED', async () => {
    const app = await h.startApp();
    for (const path of ['/graphql/stream', '/graphql']) {
      const response = await eventStreamPost(`${app.baseUrl}${path}`, viewer, null);
      expect(response.status).toBe(401);
      expect((await response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const reservation = await fetch(`${app.baseUrl}/graphql/stream`, { method: 'PUT' });
    expect(reservation.status).toBe(401);
  });

  it('keeps a single-connection stream to the caller who reserved it', async () => {
    const app = await h.startApp();
    const reservation = await fetch(`${app.baseUrl}/graphql/stream`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    expect(reservation.status).toBe(201);
    const token = await reservation.text();
    const minted = await h.gql(CreateApiKeyMutation, {
      input: { user: 'intruder', name: 'k', scopes: ['READ'] },
    });
    const intruderKey = minted.data!.createApiKey.key;
    const hijack = await fetch(`${app.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${intruderKey}`,
        'x-graphql-event-stream-token': token,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query: viewer, extensions: { operationId: '1' } }),
    });
    expect(hijack.status).toBe(403);
    expect((await hijack.json()).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('cuts off a stream whose client stops reading, closing its connection and its operations', async () => {
    const app = await h.startApp({ sseMaxBufferedBytes: 256 * 1024 });
    const headers = { authorization: `Bearer ${h.adminKey}` };
    const token = await (
      await fetch(`${app.baseUrl}/graphql/stream`, { method: 'PUT', headers })
    ).text();
    // A client that opens the stream and then reads nothing.
    const { port } = new URL(app.baseUrl);
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      request(
        {
          host: '127.0.0.1',
          port,
          path: '/graphql/stream',
          headers: {
            ...headers,
            accept: 'text/event-stream',
            'x-graphql-event-stream-token': token,
          },
        },
        resolve,
      )
        .on('error', reject)
        .end(),
    );
    expect(response.statusCode).toBe(200);
    response.pause();
    response.on('error', () => {}); // the cut-off may reach it as a reset
    // Each introspection result is tens of KB; the socket buffers take some MB before the server holds any.
    const introspection = JSON.stringify({ query: getIntrospectionQuery() });
    let status = 202;
    let sent = 0;
    for (; status === 202 && sent < 2_000; sent++) {
      const body = introspection.replace(/^\{/, `{"extensions":{"operationId":"${sent}"},`);
      const post = await fetch(`${app.baseUrl}/graphql/stream`, {
        method: 'POST',
        headers: {
          ...headers,
          'x-graphql-event-stream-token': token,
          'content-type': 'application/json',
        },
        body,
      });
      status = post.status;
      await post.arrayBuffer();
    }
    // The stream is gone: its token no longer names anything, and the client's connection closed.
    expect(status).toBe(404);
    expect(sent).toBeGreaterThan(1);
    // Reading again, the client gets what was sent before the cut-off, then the end.
    const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));
    response.resume();
    await closed;
  });
});

describe('GraphiQL', () => {
  it("runs a subscription the way GraphiQL's fetcher does (GET, Accept: text/event-stream, on /graphql)", async () => {
    const { buildHTTPExecutor } = await import('@graphql-tools/executor-http');
    const { parse } = await import('graphql');
    const app = await h.startApp();
    const executor = buildHTTPExecutor({
      endpoint: `${app.baseUrl}/graphql`,
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const result = await executor({
      document: parse(
        'subscription($id: ID!) { agentQueryStream(agentId: $id, query: "x") { __typename ... on QueryFailed { code } } }',
      ),
      variables: { id: unknown },
    });
    const events: unknown[] = [];
    for await (const value of result as AsyncIterable<{ data: unknown }>) events.push(value.data);
    expect(events).toEqual([
      { agentQueryStream: { __typename: 'QueryFailed', code: 'NOT_FOUND' } },
    ]);
  });
});

// Content negotiation on /graphql (GraphQL over HTTP): the Accept list's q-values and order
// decide, the request body is never lost, and a subscription is streamed the way the client
// prefers. Raw requests with the Accept headers the real clients send.
import { describe, expect, it } from 'vitest';
import { negotiate, parseAccept } from '../../src/http/negotiation.js';
import { useHarness, type TestApp } from '../utils/harness.js';

const h = useHarness();

const URQL =
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';
const URQL_SUBSCRIPTION = 'text/event-stream, multipart/mixed';
const APOLLO_QUERY = 'application/graphql-response+json,application/json;q=0.9';
const APOLLO_SUBSCRIPTION =
  'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
const APOLLO_DEFER =
  'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9';

describe('negotiate', () => {
  it('follows q-values, then order, among what the operation can be sent as', () => {
    expect(negotiate(URQL, 'single')).toBe('graphql-response+json');
    expect(negotiate(URQL_SUBSCRIPTION, 'subscription')).toBe('event-stream');
    expect(negotiate(APOLLO_QUERY, 'single')).toBe('graphql-response+json');
    expect(negotiate(APOLLO_SUBSCRIPTION, 'subscription')).toBe('multipart');
    // Incremental delivery of a query is not offered: the next choice answers.
    expect(negotiate(APOLLO_DEFER, 'single')).toBe('graphql-response+json');
    expect(negotiate('application/json;q=0.5, text/event-stream', 'single')).toBe('event-stream');
    expect(negotiate('text/event-stream;q=0.1, application/json', 'single')).toBe('json');
    expect(negotiate('text/event-stream;q=0, application/json', 'single')).toBe('json');
    expect(negotiate('*/*', 'single')).toBe('json');
    expect(negotiate(null, 'single')).toBe('json');
    expect(negotiate('application/json', 'subscription')).toBeUndefined();
    expect(negotiate('image/png', 'single')).toBeUndefined();
  });

  it('sends @defer and @stream as multipart where the client takes it as much as JSON, else as a query would be', () => {
    expect(negotiate(APOLLO_DEFER, 'incremental')).toBe('multipart');
    expect(negotiate(URQL, 'incremental')).toBe('multipart');
    // JSON preferred by its q-value, or no multipart at all: the whole result as JSON.
    expect(negotiate('application/json, multipart/mixed;q=0.5', 'incremental')).toBe('json');
    expect(negotiate(APOLLO_QUERY, 'incremental')).toBe('graphql-response+json');
    expect(negotiate('*/*', 'incremental')).toBe('json');
    expect(negotiate(null, 'incremental')).toBe('json');
    // A subscription's multipart dialect is not incremental delivery's.
    expect(negotiate(APOLLO_SUBSCRIPTION, 'incremental')).toBe('graphql-response+json');
    // An event stream the client prefers stays one: the same transport as without the directives.
    expect(negotiate('text/event-stream, multipart/mixed', 'incremental')).toBe('event-stream');
    expect(negotiate('multipart/mixed;deferSpec=20220824', 'incremental')).toBe('multipart');
    expect(negotiate('image/png', 'incremental')).toBeUndefined();
  });

  it('streams a live query whenever the client accepts a stream, else answers JSON', () => {
    // urql lists JSON first: a live query is still a stream (JSON would carry one result).
    expect(negotiate(URQL, 'live')).toBe('event-stream');
    expect(negotiate('application/json, multipart/mixed', 'live')).toBe('multipart');
    expect(negotiate(APOLLO_SUBSCRIPTION, 'live')).toBe('multipart');
    expect(negotiate(APOLLO_QUERY, 'live')).toBe('graphql-response+json');
    expect(negotiate(APOLLO_DEFER, 'live')).toBe('graphql-response+json');
    expect(negotiate('application/json', 'live')).toBe('json');
    expect(negotiate('*/*', 'live')).toBe('event-stream');
    expect(negotiate('image/png', 'live')).toBeUndefined();
  });

  it('reads quoted parameters and ignores malformed ranges', () => {
    expect(
      parseAccept('multipart/mixed;subscriptionSpec="1.0";q=0.5, nonsense, text/html').map((r) => [
        r.type,
        r.subtype,
        r.q,
      ]),
    ).toEqual([
      ['text', 'html', 1],
      ['multipart', 'mixed', 0.5],
    ]);
  });
});

async function post(
  app: TestApp,
  accept: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${h.adminKey}`,
    'content-type': 'application/json',
  };
  if (accept) headers.accept = accept;
  return fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
}

describe('/graphql', () => {
  it("keeps the body of a POST with urql's Accept header, and answers it with JSON", async () => {
    const app = await h.startApp();
    const response = await post(
      app,
      URQL,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { user } }',
      {
        input: { user: 'negotiated', name: 'k', scopes: ['READ'] },
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
    expect(await response.json()).toEqual({ data: { createApiKey: { user: 'negotiated' } } });
  });

  it('answers a GET query as JSON when JSON comes first, and as an event stream when the client prefers one', async () => {
    const app = await h.startApp();
    const get = (accept: string) =>
      fetch(`${app.baseUrl}/graphql?query=${encodeURIComponent('{ viewer { user } }')}`, {
        headers: { authorization: `Bearer ${h.adminKey}`, accept },
      });
    const json = await get(URQL);
    expect(json.headers.get('content-type')).toContain('application/graphql-response+json');
    expect(await json.json()).toEqual({ data: { viewer: { user: 'admin' } } });
    const stream = await get('text/event-stream, application/json;q=0.5');
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(await stream.text()).toContain(
      'event: next\ndata: {"data":{"viewer":{"user":"admin"}}}',
    );
  });

  it('streams a subscription as the client prefers: an event stream, or Apollo multipart; JSON alone is not acceptable', async () => {
    const app = await h.startApp();
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const subscription = `subscription { agentQueryStream(agentId: "${unknown}", query: "x") { __typename } }`;
    const sse = await post(app, URQL_SUBSCRIPTION, subscription);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    expect(await sse.text()).toContain('"__typename":"QueryFailed"');
    const multipart = await post(app, APOLLO_SUBSCRIPTION, subscription);
    expect(multipart.headers.get('content-type')).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
    expect(await multipart.text()).toContain(
      '{"payload":{"data":{"agentQueryStream":{"__typename":"QueryFailed"}}}}',
    );
    expect((await post(app, 'application/json', subscription)).status).toBe(406);
  });
});

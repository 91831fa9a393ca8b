// @defer and @stream on every transport (docs/clients.md, "@defer and @stream"): multipart/mixed
// on /graphql as Apollo's and urql's Accept headers ask for it, graphql-sse in both modes and
// graphql-ws with their own clients, the same payloads on each; a JSON-only client (POST or
// GET) gets the merged whole; errors inside incremental payloads are masked.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient as createWsClient } from 'graphql-ws';
import { createYoga, createSchema } from 'graphql-yoga';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { maskIncrementalErrors } from '../../src/http/incremental.js';
import { schema } from '../../src/schema/index.js';
import { lockAgentRow, lockTable } from '../utils/row-lock.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import {
  DEFERRED_COVERAGE,
  DEFERRED_MUTATION,
  expectDeferredCoverage,
  expectStreamedHits,
  multipartParts,
  PLAIN_HITS,
  SEARCH_TEXT,
  searchAgent,
  STREAMED_HITS,
  type Payload,
} from '../utils/incremental.js';
import { scrape, valueOf } from '../utils/prometheus.js';
import { collect, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

const APOLLO_DEFER =
  'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9';
const URQL =
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';

function post(
  app: TestApp,
  accept: string | null,
  query: string,
  variables = {},
  signal?: AbortSignal,
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
    signal,
  });
}

async function overMultipart(app: TestApp, accept: string, query: string, variables = {}) {
  const response = await post(app, accept, query, variables);
  expect(response.status).toBe(200);
  const type = response.headers.get('content-type')!;
  expect(type).toBe('multipart/mixed; boundary="-"; deferSpec=20220824');
  return multipartParts(type, await response.text());
}

/** graphql-ws' client as the admin, disposed at the end of the file. */
function wsClient(app: TestApp) {
  const ws = createWsClient({
    url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
    connectionParams: { authorization: `Bearer ${h.adminKey}` },
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  h.onCleanup(() => ws.dispose());
  return ws;
}

/**
 * An agent whose coverage, once asked for, waits at its last statement (its row held
 * elsewhere), and the check that nothing was recorded once the row is let go.
 */
async function agentWithHeldRow() {
  const agentId = await searchAgent(h);
  const agentRowId = rowId(agentId);
  const entries = () => db().coverageHistory.count({ where: { agentId: agentRowId } });
  const before = await entries();
  const { waiting, release } = await lockAgentRow(h, agentRowId);
  return {
    agentId,
    waiting,
    async expectNothingRecorded() {
      await release();
      await sleep(200);
      expect(await entries()).toBe(before);
    },
  };
}

/** Every payload of the operation over each streaming transport, by its name. */
async function overEveryTransport(app: TestApp, query: string, variables: Record<string, unknown>) {
  const distinct = sseClient({ url: `${app.baseUrl}/graphql`, key: h.adminKey });
  const single = sseClient({
    url: `${app.baseUrl}/graphql/stream`,
    key: h.adminKey,
    singleConnection: true,
  });
  const ws = wsClient(app);
  h.onCleanup(() => {
    distinct.dispose();
    single.dispose();
  });
  const overWs = new Promise<Payload[]>((resolve, reject) => {
    const got: Payload[] = [];
    ws.subscribe(
      { query, variables },
      { next: (value) => got.push(value as Payload), error: reject, complete: () => resolve(got) },
    );
  });
  return {
    multipart: await overMultipart(app, APOLLO_DEFER, query, variables),
    'multipart (urql)': await overMultipart(app, URQL, query, variables),
    'graphql-sse distinct': (await collect(distinct, query, variables)) as Payload[],
    'graphql-sse single': (await collect(single, query, variables)) as Payload[],
    'graphql-ws': await overWs,
  };
}

describe('@defer and @stream', () => {
  it('are in the schema and schema.graphql', () => {
    expect(schema.getDirective('defer')?.locations).toEqual(['FRAGMENT_SPREAD', 'INLINE_FRAGMENT']);
    expect(schema.getDirective('stream')?.args.map((arg) => arg.name)).toEqual([
      'if',
      'initialCount',
      'label',
    ]);
    const sdl = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(sdl).toContain('directive @defer(');
    expect(sdl).toContain('directive @stream(');
  });

  it('defer Agent.coverage on every transport, in the same payloads', async () => {
    const app = await h.startApp();
    const agentId = await searchAgent(h);
    const all = await overEveryTransport(app, DEFERRED_COVERAGE, { id: agentId });
    for (const [transport, payloads] of Object.entries(all)) {
      try {
        expectDeferredCoverage(payloads, agentId);
      } catch (error) {
        throw new Error(`${transport}: ${String(error)}`);
      }
    }
  });

  it('stream queryAgent hits on every transport: the first alone, then the rest, in rank order', async () => {
    const app = await h.startApp();
    const agentId = await searchAgent(h);
    const variables = { agentId, query: SEARCH_TEXT };
    const plain = await h.gql(PLAIN_HITS, variables);
    expect(plain.errors).toBeUndefined();
    const all = await overEveryTransport(app, STREAMED_HITS, variables);
    for (const [transport, payloads] of Object.entries(all)) {
      try {
        expectStreamedHits(payloads, plain.data.queryAgent);
      } catch (error) {
        throw new Error(`${transport}: ${String(error)}`);
      }
    }
  });

  it('send queryAgent’s first result before its ranking when only hits are asked for, streamed', async () => {
    const app = await h.startApp();
    const agentId = await searchAgent(h);
    const variables = { agentId, query: SEARCH_TEXT };
    const plain = await h.gql(PLAIN_HITS, variables);
    // The ranking reads the postings; checking the query and reading its scope's statistics do
    // not. Before, the first result waited for the ranking, and so for this lock.
    const { waiting, release } = await lockTable(h, 'search_postings');
    const hitsOnly = `query($agentId: ID!, $query: String!) {
      queryAgent(agentId: $agentId, query: $query, topK: 5) { hits @stream(initialCount: 0) { index chunkId title } } }`;
    const response = await post(
      app,
      APOLLO_DEFER,
      hitsOnly,
      variables,
      AbortSignal.timeout(10_000),
    );
    const boundary = /boundary="?([^";]+)"?/.exec(response.headers.get('content-type') ?? '')?.[1];
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = '';
    // The first part is whole once the delimiter after it has come.
    while (body.split(`\r\n--${boundary}`).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
    }
    const firstPart = body.split(`\r\n--${boundary}`)[1]!;
    expect(JSON.parse(firstPart.slice(firstPart.indexOf('\r\n\r\n') + 4))).toEqual({
      data: { queryAgent: { hits: [] } },
      hasNext: true,
    });
    // Sent while the ranking waits for the lock; once it is released, the hits follow.
    await waitFor(
      async () => (await waiting()) === 1 || undefined,
      'the ranking waiting for the lock on the postings',
    );
    await release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
    }
    const payloads = multipartParts(response.headers.get('content-type')!, body);
    const hits = payloads
      .flatMap((payload) => payload.incremental ?? [])
      .flatMap((part) => part.items ?? []);
    expect(hits).toEqual(plain.data.queryAgent.hits);
    expect(payloads.at(-1)?.hasNext).toBe(false);
  });

  it('refuse @stream(initialCount:) below 0 as the caller’s, written or in a variable, on every transport', async () => {
    const app = await h.startApp();
    const agentId = await searchAgent(h);
    const hits = (count: string) =>
      `query($agentId: ID!, $query: String!${count === '$n' ? ', $n: Int!' : ''}) { queryAgent(agentId: $agentId, query: $query) { hits @stream(initialCount: ${count}) { index } } }`;
    const expectRefused = (errors: any[] | undefined) =>
      expect(errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', '@stream initialCount must be 0 or more, got -1'],
      ]);
    for (const [query, n] of [
      [hits('-1'), undefined],
      [hits('$n'), -1],
    ] as const) {
      const variables = { agentId, query: SEARCH_TEXT, ...(n === undefined ? {} : { n }) };
      for (const accept of [APOLLO_DEFER, 'application/graphql-response+json']) {
        const response = await post(app, accept, query, variables);
        expect(response.status).toBe(400);
        expectRefused(((await response.json()) as any).errors);
      }
      // graphql-sse (a refused operation is its stream's one result) and graphql-ws.
      const sse = sseClient({ url: `${app.baseUrl}/graphql`, key: h.adminKey });
      h.onCleanup(() => sse.dispose());
      const [overSse] = await collect(sse, query, variables);
      expectRefused(overSse?.errors as any[]);
      const ws = wsClient(app);
      const wsErrors = await new Promise<any[]>((resolve) =>
        ws.subscribe(
          { query, variables },
          {
            next: (value) => resolve([...(value.errors ?? [])]),
            error: resolve,
            complete: () => {},
          },
        ),
      );
      expectRefused(wsErrors);
    }
    // 0 and a missing count stream as before.
    const fine = await post(app, APOLLO_DEFER, hits('0'), { agentId, query: SEARCH_TEXT });
    expect(fine.status).toBe(200);
  });

  it("defer a mutation's payload over multipart", async () => {
    const app = await h.startApp();
    const input = { user: 'deferred-mutation', name: 'k', scopes: ['READ'] };
    const payloads = await overMultipart(app, APOLLO_DEFER, DEFERRED_MUTATION, { input });
    expect(payloads).toEqual([
      { data: { createApiKey: { user: 'deferred-mutation' } }, hasNext: true },
      {
        incremental: [{ data: { scopes: ['READ'] }, path: ['createApiKey'], label: 'scopes' }],
        hasNext: false,
      },
    ]);
  });

  it('answer a JSON-only client (POST, GET, any JSON type) with the merged whole, never 406', async () => {
    const app = await h.startApp();
    const agentId = await searchAgent(h);
    const variables = { agentId, query: SEARCH_TEXT };
    const plain = await h.gql(PLAIN_HITS, variables);
    for (const accept of ['application/json', 'application/graphql-response+json', null]) {
      const response = await post(app, accept, STREAMED_HITS, variables);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(
        `${accept ?? 'application/json'}; charset=utf-8`,
      );
      expect(await response.json()).toEqual({ data: plain.data });
    }
    const url = new URL(`${app.baseUrl}/graphql`);
    url.searchParams.set('query', DEFERRED_COVERAGE);
    url.searchParams.set('variables', JSON.stringify({ id: agentId }));
    const get = await fetch(url, {
      headers: { authorization: `Bearer ${h.adminKey}`, accept: 'application/json' },
    });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({
      data: {
        agent: {
          id: agentId,
          name: 'Incremental agent',
          coverage: { overallCoverage: expect.any(Number), totalDocuments: expect.any(Number) },
        },
      },
    });
  });

  it('merge errors of deferred fragments after the first ones, each at its path and coded', async () => {
    const app = await h.startApp();
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const query = `query($id: ID!) { viewer { user } ... @defer { queryAgent(agentId: $id, query: "x") { totalResults } } }`;
    const multipart = await overMultipart(app, APOLLO_DEFER, query, { id: unknown });
    expect(multipart[0]).toEqual({ data: { viewer: { user: 'admin' } }, hasNext: true });
    const deferred = multipart.flatMap((payload) => payload.incremental ?? []);
    expect(deferred).toHaveLength(1);
    expect(deferred[0]!.errors!.map((error) => [error.path, error.extensions.code])).toEqual([
      [['queryAgent'], 'NOT_FOUND'],
    ]);
    const merged = await (await post(app, 'application/json', query, { id: unknown })).json();
    expect(merged.data).toEqual({ viewer: { user: 'admin' } });
    expect(merged.errors.map((error: any) => [error.path, error.extensions.code])).toEqual([
      [['queryAgent'], 'NOT_FOUND'],
    ]);
  });

  it('count an incremental operation once, when it ends, with the errors of every payload', async () => {
    const app = await h.startApp();
    const unknown = Buffer.from('Agent:00000000-0000-0000-0000-000000000000').toString('base64');
    const failing = `query($id: ID!) { viewer { user } ... @defer { queryAgent(agentId: $id, query: "x") { totalResults } } }`;
    const fine = '{ viewer { user } ... @defer { v: viewer { scopes } } }';
    await overMultipart(app, APOLLO_DEFER, fine);
    const sse = sseClient({ url: `${app.baseUrl}/graphql`, key: h.adminKey });
    h.onCleanup(() => sse.dispose());
    expect((await collect(sse, fine)).at(-1)).toMatchObject({ hasNext: false });
    await overMultipart(app, APOLLO_DEFER, failing, { id: unknown });
    await (await post(app, 'application/json', failing, { id: unknown })).json();
    const samples = await scrape(`${app.baseUrl}/metrics`);
    const operations = (outcome: string) =>
      valueOf(samples, 'graphql_operations_total', { type: 'query', outcome });
    expect([operations('ok'), operations('error')]).toEqual([2, 2]);
    expect(valueOf(samples, 'graphql_errors_total', { code: 'NOT_FOUND' })).toBe(2);
  });

  it('mask an internal error inside an incremental payload', async () => {
    // A resolver that fails as a bug would: its message must not reach the client.
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { ok: String, broken: String }',
        resolvers: {
          Query: {
            ok: () => 'ok',
            broken: () => Promise.reject(new Error('secret: db at 10.0.0.7')),
          },
        },
      }),
      plugins: [useDeferStream(), maskIncrementalErrors()],
      logging: false,
    });
    const response = await yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
      body: JSON.stringify({ query: '{ ok ... @defer { broken } }' }),
    });
    const text = await response.text();
    expect(text).not.toContain('secret');
    const payloads = multipartParts(response.headers.get('content-type')!, text);
    expect(payloads.at(-1)!.incremental![0]!.errors).toEqual([
      expect.objectContaining({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
  });

  it('stop a deferred coverage whose client went away: its statement cancelled, nothing recorded', async () => {
    const app = await h.startApp();
    const held = await agentWithHeldRow();
    const client = new AbortController();
    const variables = { id: held.agentId };
    const response = await post(app, APOLLO_DEFER, DEFERRED_COVERAGE, variables, client.signal);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"hasNext":true');
    await waitFor(async () => (await held.waiting()) > 0, 'the coverage waiting on the lock');
    client.abort();
    // Cancelled while the lock is still held: a statement left running would wait for it.
    await waitFor(async () => (await held.waiting()) === 0, 'the statement cancelled', 5_000);
    await held.expectNothingRecorded();
  });

  it('stop a deferred coverage whose graphql-ws client completed the operation', async () => {
    const app = await h.startApp();
    const held = await agentWithHeldRow();
    const ws = wsClient(app);
    let unsubscribe!: () => void;
    const first = new Promise<Payload>((resolve, reject) => {
      unsubscribe = ws.subscribe(
        { query: DEFERRED_COVERAGE, variables: { id: held.agentId } },
        { next: (value) => resolve(value as Payload), error: reject, complete: () => {} },
      );
    });
    expect(await first).toMatchObject({ hasNext: true });
    await waitFor(async () => (await held.waiting()) > 0, 'the coverage waiting on the lock');
    unsubscribe(); // the client's `complete` message
    await waitFor(async () => (await held.waiting()) === 0, 'the statement cancelled', 5_000);
    await held.expectNothingRecorded();
  });

  it('keep an operation without the directives as it was: one JSON result', async () => {
    const app = await h.startApp();
    const response = await post(app, APOLLO_DEFER, '{ viewer { user } }');
    expect(response.headers.get('content-type')).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
    expect(await response.json()).toEqual({ data: { viewer: { user: 'admin' } } });
  });
});

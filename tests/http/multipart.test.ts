// Apollo's multipart HTTP subscriptions on /graphql: the framing (parts closed by the next
// delimiter, `{"payload": …}`, `{}` heartbeats, the closing delimiter), request errors as
// GraphQL over HTTP, subscription errors as Apollo Client sees them, and a client that leaves.
import { gql } from '@apollo/client';
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { apolloHttp } from '../client/recipes.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const ACCEPT =
  'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
const PROGRESS = 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status } }';
const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

function subscribe(
  app: TestApp,
  query: string,
  variables: Record<string, unknown>,
  signal?: AbortSignal,
  key: string | null = h.adminKey,
) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT };
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(`${app.baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal,
  });
}

describe('multipart subscriptions', () => {
  it('frames every result as a part followed by the delimiter, and ends with the closing one', async () => {
    const app = await h.startApp();
    const task = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 200 },
      { ownerId: await adminUserId() },
    );
    const response = await subscribe(app, PROGRESS, { id: toGlobalId('Task', task.id) });
    expect(response.status).toBe(200);
    await h.startWorker(app.pubsub);
    const body = await response.text();
    // The opening delimiter, then the first result (no heartbeat first: urql would take it for one).
    expect(
      body.startsWith(
        '\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{"payload":',
      ),
    ).toBe(true);
    expect(body.endsWith('\r\n--graphql--\r\n')).toBe(true);
    const parts = body
      .slice(0, -'--\r\n'.length)
      .split('\r\n--graphql')
      .slice(1, -1)
      .map((part) => JSON.parse(part.split('\r\n\r\n')[1]!));
    const payloads = parts
      .filter((part) => 'payload' in part)
      .map((part) => part.payload.data.taskProgress);
    expect(payloads[0].status).toBe('PENDING');
    expect(payloads.at(-1).status).toBe('COMPLETED');
    const log = await db().taskEvent.findMany({
      where: { taskId: task.id },
      orderBy: { sequence: 'asc' },
    });
    expect(payloads.map((p: { sequence: number }) => p.sequence)).toEqual(
      log.map((event) => event.sequence),
    );
  });

  it('answers request errors as GraphQL over HTTP (400, 401) and resolver errors inside the payload', async () => {
    const app = await h.startApp();
    const invalid = await subscribe(
      app,
      'subscription { taskProgress(taskId: "x") { noSuchField } }',
      {},
    );
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/graphql-response+json');
    expect((await invalid.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const anonymous = await subscribe(app, PROGRESS, { id: 'x' }, undefined, null);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // Through Apollo Client: the resolver's NOT_FOUND is the subscription's error.
    const client = apolloHttp(app.baseUrl, h.adminKey);
    h.onCleanup(() => client.stop());
    const unknown = Buffer.from('Task:00000000-0000-0000-0000-000000000000').toString('base64');
    const error = await new Promise<unknown>((resolve) => {
      client
        .subscribe({ query: gql(PROGRESS), variables: { id: unknown } })
        .subscribe({ next: (result) => result.error && resolve(result.error), error: resolve });
    });
    expect(JSON.stringify(error)).toContain('NOT_FOUND');
  });

  it('stops the subscription when the client leaves', async () => {
    const app = await h.startApp();
    const task = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 60_000 },
      { ownerId: await adminUserId() },
    );
    const leave = new AbortController();
    const response = await subscribe(
      app,
      PROGRESS,
      { id: toGlobalId('Task', task.id) },
      leave.signal,
    );
    const reader = response.body!.getReader();
    await reader.read();
    const { feeds } = app.app.contextOptions;
    await waitFor(async () => feeds.tasks.size === 1, 'the task followed');
    leave.abort();
    await reader.read().catch(() => undefined);
    await waitFor(async () => feeds.tasks.size === 0, 'the feed released');
    const gauge = /^graphql_multipart_streams_open (\d+)$/m.exec(
      await (await fetch(`${app.baseUrl}/metrics`)).text(),
    )?.[1];
    expect(gauge).toBe('0');
  });
});

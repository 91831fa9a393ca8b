// graphql-ws on /graphql (the graphql-transport-ws protocol), with graphql-ws's own client and
// with raw WebSocket messages: the API key in connection_init, the protocol's close codes,
// ping/pong, errors, limits, resuming a task's events after a dropped connection with
// afterSequence, and the cut-off of a client that stops reading.
import { connect } from 'node:net';
import { getIntrospectionQuery } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const wsUrl = (app: TestApp) => `${app.baseUrl.replace('http', 'ws')}/graphql`;
const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;
const PROGRESS =
  'subscription($id: ID!, $after: Int) { taskProgress(taskId: $id, afterSequence: $after) { sequence status } }';

/** A raw protocol peer: every message it gets, and how its socket closed. */
async function rawPeer(app: TestApp, protocols: string[] = ['graphql-transport-ws']) {
  const socket = new WebSocket(wsUrl(app), protocols);
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  h.onCleanup(() => socket.terminate());
  return {
    socket,
    messages,
    closed,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
  };
}

async function initialised(app: TestApp, key = h.adminKey) {
  const peer = await rawPeer(app);
  peer.send({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } });
  await waitFor(
    async () => peer.messages.some((m) => m.type === 'connection_ack'),
    'connection_ack',
  );
  return peer;
}

function client(app: TestApp, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const made = createClient({
    url: wsUrl(app),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${h.adminKey}` },
    retryAttempts: 0,
    ...options,
  });
  h.onCleanup(() => made.dispose());
  return made;
}

describe('graphql-ws: the connection', () => {
  it('accepts the key as Authorization or apiKey in connection_init, and refuses none or a revoked one with 4403', async () => {
    const app = await h.startApp();
    const minted = await h.gql(
      'mutation { createApiKey(input: { user: "ws-user", name: "k", scopes: [READ] }) { key apiKey { id } } }',
    );
    const { key, apiKey } = minted.data!.createApiKey;
    for (const payload of [{ Authorization: `Bearer ${key}` }, { apiKey: key }]) {
      const viewer = await client(app, { connectionParams: payload })
        .iterate({ query: '{ viewer { user } }' })
        .next();
      expect(viewer.value).toEqual({ data: { viewer: { user: 'ws-user' } } });
    }
    for (const payload of [undefined, { Authorization: 'Bearer not-a-key' }]) {
      const peer = await rawPeer(app);
      peer.send({ type: 'connection_init', ...(payload && { payload }) });
      expect(await peer.closed).toEqual({ code: 4403, reason: 'Forbidden' });
    }
    // Revoked while connected: the next subscribe closes the connection.
    const live = await initialised(app, key);
    expect(
      errorsOf(
        await h.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: apiKey.id }),
      ),
    ).toEqual([]);
    live.send({ id: '1', type: 'subscribe', payload: { query: '{ viewer { user } }' } });
    expect(await live.closed).toEqual({ code: 4403, reason: 'Forbidden' });
  });

  it('closes as the protocol says: 4401 before init, 4409 for a reused id, 4429 for a second init, 4406 without the subprotocol', async () => {
    const app = await h.startApp();
    const early = await rawPeer(app);
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ viewer { user } }' } });
    expect((await early.closed).code).toBe(4401);
    const twice = await initialised(app);
    twice.send({ type: 'connection_init' });
    expect((await twice.closed).code).toBe(4429);
    const reused = await initialised(app);
    const taskId = toGlobalId(
      'Task',
      (
        await enqueueTestTask(
          app.pubsub,
          testSleep,
          { ms: 60_000 },
          { ownerId: await adminUserId() },
        )
      ).id,
    );
    reused.send({
      id: 'same',
      type: 'subscribe',
      payload: { query: PROGRESS, variables: { id: taskId } },
    });
    reused.send({
      id: 'same',
      type: 'subscribe',
      payload: { query: PROGRESS, variables: { id: taskId } },
    });
    expect(await reused.closed).toEqual({
      code: 4409,
      reason: 'Subscriber for same already exists',
    });
    // A peer that asks for no subprotocol is accepted, then told (one that asks for another is refused at the handshake).
    const noProtocol = await rawPeer(app, []);
    expect((await noProtocol.closed).code).toBe(4406);
  });

  it('answers ping with pong, and closes a connection that never initialises (4408)', async () => {
    const app = await h.startApp();
    const peer = await initialised(app);
    peer.send({ type: 'ping' });
    await waitFor(async () => peer.messages.some((m) => m.type === 'pong'), 'pong');
    const silent = await rawPeer(app);
    expect((await silent.closed).code).toBe(4408);
  });

  it('counts open connections on /metrics', async () => {
    const app = await h.startApp();
    const peer = await initialised(app);
    const gauge = async () =>
      Number(
        /^graphql_ws_connections_open (\d+)$/m.exec(
          await (await fetch(`${app.baseUrl}/metrics`)).text(),
        )?.[1],
      );
    expect(await gauge()).toBe(1);
    peer.socket.close();
    await peer.closed;
    await waitFor(async () => (await gauge()) === 0, 'the gauge back to 0');
  });
});

const errorsOf = (response: { errors?: ReadonlyArray<{ extensions?: { code?: unknown } }> }) =>
  (response.errors ?? []).map((e) => e.extensions?.code);

describe('graphql-ws: operations', () => {
  it('answers request errors with an error message, and resolver errors as a result, masked and coded', async () => {
    const app = await h.startApp();
    const peer = await initialised(app);
    const deep = `{ agents { edges { node { tasks { edges { node { agent { tasks { edges { node { agent { tasks { edges { node { id } } } } } } } } } } } } } } }`;
    peer.send({
      id: 'invalid',
      type: 'subscribe',
      payload: { query: '{ viewer { noSuchField } }' },
    });
    peer.send({ id: 'deep', type: 'subscribe', payload: { query: deep } });
    const unknown = Buffer.from('Task:00000000-0000-0000-0000-000000000000').toString('base64');
    peer.send({
      id: 'unknown',
      type: 'subscribe',
      payload: { query: PROGRESS, variables: { id: unknown } },
    });
    await waitFor(
      async () =>
        peer.messages.filter((m) => m.type === 'error' || m.type === 'complete').length >= 3,
      'three answers',
    );
    const byId = (id: string) => peer.messages.filter((m) => m.id === id);
    expect(byId('invalid')).toEqual([
      {
        id: 'invalid',
        type: 'error',
        payload: [expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
      },
    ]);
    expect(byId('deep')[0]).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'BAD_USER_INPUT' } }],
    });
    expect(byId('unknown')).toEqual([
      {
        id: 'unknown',
        type: 'next',
        payload: { errors: [expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })] },
      },
      { id: 'unknown', type: 'complete' },
    ]);
    expect(JSON.stringify(peer.messages)).not.toMatch(/stack|originalError|"http"/);
  });

  it('stops an operation the client completes, and runs mutations', async () => {
    const app = await h.startApp();
    const ws = client(app);
    const taskId = toGlobalId(
      'Task',
      (
        await enqueueTestTask(
          app.pubsub,
          testSleep,
          { ms: 60_000 },
          { ownerId: await adminUserId() },
        )
      ).id,
    );
    const iterator = ws.iterate({ query: PROGRESS, variables: { id: taskId } });
    expect((await iterator.next()).value).toMatchObject({
      data: { taskProgress: { status: 'PENDING' } },
    });
    const feeds = app.app.contextOptions.feeds;
    expect(feeds.tasks.size).toBe(1);
    await iterator.return!();
    await waitFor(async () => feeds.tasks.size === 0, 'the feed released');
    const cancelled = await ws
      .iterate({
        query: 'mutation($id: ID!) { cancelTask(id: $id) { status } }',
        variables: { id: taskId },
      })
      .next();
    expect(cancelled.value).toEqual({ data: { cancelTask: { status: 'CANCELLED' } } });
  });
});

describe('graphql-ws: resuming', () => {
  it("resumes a task's events after a dropped connection with afterSequence: nothing missed, nothing repeated", async () => {
    const app = await h.startApp();
    const task = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1_500 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', task.id);
    const seen: number[] = [];
    let dropped = false;
    let socket: WebSocket | undefined;
    // The client keeps the last sequence; after a drop it subscribes again from there.
    for (let attempt = 0; attempt < 5 && !(await finished(task.id, seen)); attempt++) {
      const ws = client(app, {
        on: {
          connected: (opened) => {
            socket = opened as WebSocket;
          },
        },
      });
      const after = seen.at(-1);
      await new Promise<void>((resolve) => {
        ws.subscribe<any>(
          { query: PROGRESS, variables: { id: taskId, after } },
          {
            next: ({ data }) => {
              seen.push(data.taskProgress.sequence);
              // Its current state (PENDING, sequence 1) first; then the worker starts it.
              if (seen.length === 1) void h.startWorker(app.pubsub);
              if (!dropped && seen.length === 4) {
                dropped = true;
                socket!.terminate(); // the network goes away mid-task
              }
            },
            error: () => resolve(),
            complete: () => resolve(),
          },
        );
      });
    }
    expect(dropped).toBe(true);
    const log = (
      await db().taskEvent.findMany({ where: { taskId: task.id }, orderBy: { sequence: 'asc' } })
    ).map((e) => e.sequence);
    expect(seen).toEqual(log);
  });
});

async function finished(taskId: string, seen: number[]): Promise<boolean> {
  const task = await db().task.findUniqueOrThrow({ where: { id: taskId } });
  return (
    ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'].includes(task.status) &&
    seen.at(-1) === task.lastSequence
  );
}

describe('graphql-ws: backpressure', () => {
  it('cuts off a client that stops reading, and frees its operations', async () => {
    const app = await h.startApp({ sseMaxBufferedBytes: 256 * 1024 });
    const { port } = new URL(app.baseUrl);
    // A raw client: the WebSocket handshake, then masked text frames, and never a read after.
    const socket = connect(Number(port), '127.0.0.1');
    h.onCleanup(() => void socket.destroy());
    socket.write(
      [
        'GET /graphql HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: graphql-transport-ws',
        '',
        '',
      ].join('\r\n'),
    );
    const handshake = await new Promise<string>((resolve) =>
      socket.once('data', (data) => resolve(data.toString())),
    );
    expect(handshake).toMatch(/^HTTP\/1.1 101/);
    const frame = (message: unknown) => maskedTextFrame(JSON.stringify(message));
    socket.write(
      frame({ type: 'connection_init', payload: { Authorization: `Bearer ${h.adminKey}` } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    for (let i = 0; i < 400 && !socket.destroyed; i++)
      socket.write(
        frame({ id: String(i), type: 'subscribe', payload: { query: getIntrospectionQuery() } }),
      );
    socket.resume();
    await closed; // the server cut it off rather than buffer without bound
    const gauge = async () =>
      Number(
        /^graphql_ws_connections_open (\d+)$/m.exec(
          await (await fetch(`${app.baseUrl}/metrics`)).text(),
        )?.[1],
      );
    await waitFor(async () => (await gauge()) === 0, 'the connection gone');
  });
});

/** A client-to-server text frame (RFC 6455 §5.2: client frames are masked; an all-zero mask keeps the bytes). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x81, 0x80 | length])
      : length < 65_536
        ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff])
        : (() => {
            const big = Buffer.alloc(10);
            big[0] = 0x81;
            big[1] = 0x80 | 127;
            big.writeBigUInt64BE(BigInt(length), 2);
            return big;
          })();
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

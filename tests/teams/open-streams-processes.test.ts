// Membership changes reach every API process: in another OS process on the same Redis (the
// revocation signal) a lowered role refuses writes and a removal ends the member's open stream
// and refuses their key; with Redis away, a process that missed the signal ends the stream
// once it reads the key again (the guard's sweep, under the key cache's 5 s).
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import {
  redisServerAvailable,
  spawnServiceProcess,
  startPrivateRedis,
} from '../utils/processes.js';
import { listen, sseClient } from '../utils/sse.js';
import { teamWithMember, type TeamWithMember } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

const PROGRESS = 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status } }';
const REMOVE = 'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }';
const LOWER =
  'mutation($t: ID!, $u: String!) { changeTeamMemberRole(teamId: $t, user: $u, role: VIEWER) { role } }';
const WRITE =
  'mutation { createTemplate(input: { name: "osp", category: DOCS, content: "x" }) { id } }';

interface Result {
  data?: { taskProgress: { status: string } } | null;
  errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }>;
}

/** A quiet task of the team: PENDING, no worker runs it. */
async function teamTask(app: TestApp, t: TeamWithMember) {
  const task = await enqueueTestTask(
    app.pubsub,
    testSleep,
    { ms: 60_000 },
    { ownerId: t.ownerUserId, teamId: t.teamRowId },
  );
  return toGlobalId('Task', task.id);
}

async function removeMember(app: TestApp, t: TeamWithMember) {
  const removed = await graphql(app.fetch, REMOVE, { t: t.teamId, u: t.user }, { key: t.owner });
  expect(removed.data).toEqual({ removeTeamMember: true });
}

/** The stream ended after its first event, with one error of `code`. */
function expectEndedWith(results: Result[], code: string) {
  expect(results).toHaveLength(2);
  expect(results[0]!.data!.taskProgress.status).toBe('PENDING');
  expect(results[1]!.data ?? null).toBeNull();
  expect(errorCodes(results[1] as never)).toEqual([code]);
}

describe.skipIf(!redisAvailable)('another API process on the same Redis', () => {
  it('says a removed member’s rights changed before it says what the removal changed', async () => {
    // Another process must hold the member's open streams before their live queries run again
    // for the change, or one run with the old rights could reach them (stream-guard.ts).
    const a = await h.startApp({ pubsub: 'redis', responseCache: {} });
    const t = await teamWithMember(h, 'osp-order');
    const listener = createRedisPubSub(h.redisUrl!, h.pubsubPrefix);
    h.onCleanup(() => listener.close());
    const heard: string[] = [];
    const revoked = listener.subscribe('apiKeyRevoked', 'all');
    const invalidated = listener.subscribe('liveQueryInvalidated', 'all');
    void (async () => {
      for await (const signal of revoked) if ('userId' in signal) heard.push('revoked');
    })();
    void (async () => {
      for await (const { identifiers } of invalidated)
        if (identifiers.includes('Team')) heard.push('invalidated');
    })();
    await Promise.all([revoked.ready, invalidated.ready]);
    await removeMember(a, t);
    await waitFor(async () => heard.length >= 2, 'both signals');
    expect(heard).toEqual(['revoked', 'invalidated']);
    void revoked.return?.();
    void invalidated.return?.();
  });

  it('lowers the member’s rights there, then ends their graphql-ws stream and refuses their key there once removed', async () => {
    const a = await h.startApp({ pubsub: 'redis' });
    const b = spawnServiceProcess(
      h,
      {
        ROLE: 'api',
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_KEY: h.adminKey,
        REDIS_URL: h.redisUrl!,
      },
      /"port":(\d+)[^\n]*API listening/,
    );
    const port = /"port":(\d+)/.exec(await b.ready)![1];
    const t = await teamWithMember(h, 'osp-redis');
    const taskId = await teamTask(a, t);
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${t.member}` },
      retryAttempts: 0,
    });
    h.onCleanup(() => client.dispose());
    const results: Result[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: PROGRESS, variables: { id: taskId } },
        { next: (r) => results.push(r as Result), error: reject, complete: resolve },
      ),
    );
    await waitFor(async () => results.length === 1, 'the first event from the other process');
    const atB = (query: string) =>
      graphql(fetch, query, undefined, { key: t.member, url: `http://127.0.0.1:${port}/graphql` });
    expect((await atB(WRITE)).errors).toBeUndefined(); // b has the key cached now
    // A lowered role: b refuses the write; the stream, which VIEWERs may read, stays.
    const lowered = await graphql(a.fetch, LOWER, { t: t.teamId, u: t.user }, { key: t.owner });
    expect(lowered.errors).toBeUndefined();
    await waitFor(async () => errorCodes(await atB(WRITE))[0] === 'FORBIDDEN', 'b to refuse');
    // Removed: the stream ends there, and b refuses the key.
    await removeMember(a, t);
    await done;
    expectEndedWith(results, 'UNAUTHENTICATED');
    expect((await atB('{ viewer { user } }')).status).toBe(401);
    await b.kill('SIGTERM');
  }, 120_000);
});

describe.skipIf(!redisServerAvailable)('with Redis away', () => {
  it('ends the stream in a process that missed the signal once it reads the key again', async () => {
    const redis = await startPrivateRedis(h);
    const a = await h.startApp({ pubsub: createRedisPubSub(redis.url, h.pubsubPrefix) });
    const b = await h.startApp({ pubsub: createRedisPubSub(redis.url, h.pubsubPrefix) });
    const t = await teamWithMember(h, 'osp-away');
    const taskId = await teamTask(a, t);
    const client = sseClient({ url: `${b.baseUrl}/graphql/stream`, key: t.member });
    h.onCleanup(() => client.dispose());
    const results: Result[] = [];
    const { done } = listen(client, PROGRESS, { id: taskId }, (r) => results.push(r as Result));
    await waitFor(async () => results.length === 1, 'the first event');
    await redis.kill('SIGKILL');
    await removeMember(a, t); // its signal cannot reach b
    await done;
    expectEndedWith(results, 'UNAUTHENTICATED');
    // Back for the clean-up (the apps' pub/sub closes through it).
    await startPrivateRedis(h, redis.port);
  }, 30_000);
});

// Open subscriptions end when their caller loses the right to them: a member removed from the
// team (their key of it refused: UNAUTHENTICATED; their key of another team: the followed task
// is NOT_FOUND to them now), a revoked key, over graphql-ws, graphql-sse and multipart, with
// the real clients; nothing written after the change reaches them. A lowered role that still
// reads keeps its stream. (Across processes: open-streams-processes.test.ts.)
import { gql } from '@apollo/client';
import { createClient } from 'graphql-ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { apolloHttp } from '../client/recipes.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { listen, sseClient } from '../utils/sse.js';
import { teamWithMember, type TeamWithMember } from '../utils/teams.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const PROGRESS =
  'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status task { id } } }';
const REMOVE = 'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }';

interface Result {
  data?: { taskProgress: { sequence: number; status: string } } | null;
  errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }>;
}

let app: TestApp;
beforeAll(async () => {
  app = await h.startApp();
});

/** A task of the team (PENDING until a worker runs it). */
async function teamTask(t: TeamWithMember, ms = 60_000) {
  const task = await enqueueTestTask(
    app.pubsub,
    testSleep,
    { ms },
    { ownerId: t.ownerUserId, teamId: t.teamRowId },
  );
  return { rowId: task.id, id: toGlobalId('Task', task.id) };
}

/** graphql-ws's client on its defaults (no retries): every result, and when it completes. */
function wsSubscribe(key: string, taskId: string) {
  const client = createClient({
    url: `${app.baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  h.onCleanup(() => client.dispose());
  const results: Result[] = [];
  const done = new Promise<void>((resolve, reject) =>
    client.subscribe(
      { query: PROGRESS, variables: { id: taskId } },
      { next: (result) => results.push(result as Result), error: reject, complete: resolve },
    ),
  );
  return { results, done };
}

/** graphql-sse's client (distinct connections): every result, and when it completes. */
function sseSubscribe(key: string, taskId: string) {
  const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key });
  h.onCleanup(() => client.dispose());
  const results: Result[] = [];
  const { done } = listen(client, PROGRESS, { id: taskId }, (r) => results.push(r as Result));
  return { results, done };
}

const lastSequence = async (taskId: string) =>
  (await db().taskEvent.aggregate({ where: { taskId }, _max: { sequence: true } }))._max.sequence!;

const removeMember = async (t: TeamWithMember) =>
  expect(
    (await graphql(app.fetch, REMOVE, { t: t.teamId, u: t.user }, { key: t.owner })).data,
  ).toEqual({ removeTeamMember: true });

describe('a member removed from the team', () => {
  it('has their graphql-ws stream with the team’s key ended with UNAUTHENTICATED, and nothing written after the removal', async () => {
    const t = await teamWithMember(h, 'os-ws');
    const task = await teamTask(t);
    await h.startWorker(app.pubsub);
    const member = wsSubscribe(t.member, task.id);
    const running = () => member.results.filter((r) => r.data?.taskProgress.status === 'RUNNING');
    await waitFor(async () => running().length >= 2, 'progress events flowing');
    await removeMember(t);
    // Everything written from here on is after the removal.
    const atRemoval = await lastSequence(task.rowId);
    await member.done;
    const last = member.results.at(-1)!;
    expect(last.data ?? null).toBeNull();
    expect(errorCodes(last as never)).toEqual(['UNAUTHENTICATED']);
    const events = member.results.slice(0, -1).map((r) => r.data!.taskProgress);
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events) expect(event.sequence).toBeLessThanOrEqual(atRemoval);
    // The stream ended for the removal, not with the task, which goes on writing events.
    await waitFor(async () => (await lastSequence(task.rowId)) > atRemoval, 'more events');
    expect(await db().task.findUniqueOrThrow({ where: { id: task.rowId } })).toMatchObject({
      status: 'RUNNING',
    });
  });

  it('has their graphql-sse stream with a key of another team ended with NOT_FOUND, while the owner’s goes on', async () => {
    const t = await teamWithMember(h, 'os-sse');
    const task = await teamTask(t);
    const member = sseSubscribe(t.memberHome, task.id);
    const owner = sseSubscribe(t.owner, task.id);
    await waitFor(
      async () => member.results.length === 1 && owner.results.length === 1,
      'the first events',
    );
    await removeMember(t);
    await member.done;
    expect(member.results).toHaveLength(2);
    expect(member.results[0]!.data!.taskProgress.status).toBe('PENDING');
    expect(errorCodes(member.results[1] as never)).toEqual(['NOT_FOUND']);
    // Their key of home still works: the stream ended because the task is no longer theirs.
    const viewer = await graphql(app.fetch, '{ viewer { user } }', {}, { key: t.memberHome });
    expect(viewer.data).toEqual({ viewer: { user: t.user } });
    // The owner's stream is untouched: it gets the next event and ends with the task.
    const cancelled = await graphql(
      app.fetch,
      'mutation($id: ID!) { cancelTask(id: $id) { status } }',
      { id: task.id },
      { key: t.owner },
    );
    expect(cancelled.errors).toBeUndefined();
    await owner.done;
    expect(owner.results.map((r) => r.data?.taskProgress.status)).toEqual(['PENDING', 'CANCELLED']);
    expect(member.results).toHaveLength(2);
  });
});

describe('a member whose role is lowered', () => {
  it('keeps their stream while the role still reads, and gets what follows', async () => {
    const t = await teamWithMember(h, 'os-lower');
    const task = await teamTask(t);
    const member = wsSubscribe(t.member, task.id);
    await waitFor(async () => member.results.length === 1, 'the first event');
    const lowered = await graphql(
      app.fetch,
      'mutation($t: ID!, $u: String!) { changeTeamMemberRole(teamId: $t, user: $u, role: VIEWER) { role } }',
      { t: t.teamId, u: t.user },
      { key: t.owner },
    );
    expect(lowered.data).toEqual({ changeTeamMemberRole: { role: 'VIEWER' } });
    const viewer = await graphql(app.fetch, '{ viewer { scopes } }', {}, { key: t.member });
    expect(viewer.data).toEqual({ viewer: { scopes: ['READ'] } });
    await graphql(
      app.fetch,
      'mutation($id: ID!) { cancelTask(id: $id) { status } }',
      { id: task.id },
      { key: t.owner },
    );
    await member.done;
    expect(member.results.map((r) => r.errors ?? r.data!.taskProgress.status)).toEqual([
      'PENDING',
      'CANCELLED',
    ]);
  });
});

describe('a revoked key', () => {
  it('has its multipart stream (Apollo Client) ended with UNAUTHENTICATED', async () => {
    const t = await teamWithMember(h, 'os-multi');
    const task = await teamTask(t);
    const client = apolloHttp(app.baseUrl, t.member);
    h.onCleanup(() => client.stop());
    const results: Array<{ data?: unknown; error?: unknown }> = [];
    const done = new Promise<void>((resolve, reject) =>
      client
        .subscribe({ query: gql(PROGRESS), variables: { id: task.id }, fetchPolicy: 'no-cache' })
        .subscribe({ next: (r) => results.push(r), error: reject, complete: resolve }),
    );
    await waitFor(async () => results.length === 1, 'the first event');
    const revoked = await graphql(
      app.fetch,
      'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }',
      { id: t.memberKeyId },
      { key: t.owner },
    );
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    await done;
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ data: { taskProgress: { status: 'PENDING' } } });
    const [error] = (results[1]!.error as { errors: Result['errors'] }).errors!;
    expect(error!.extensions!.code).toBe('UNAUTHENTICATED');
    // The other keys of the same user are not touched.
    const home = sseSubscribe(t.memberHome, task.id);
    await waitFor(async () => home.results.length === 1, 'a stream with the home key');
    expect(home.results[0]!.errors).toBeUndefined();
  });
});

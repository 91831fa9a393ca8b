// taskProgress over graphql-sse: current state first, every change in order, the end;
// resumable with afterSequence; fed across processes through Redis; Redis may restart.
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { TaskFeed } from '../../src/feeds/task-feed.js';
import { claimTasks } from '../../src/queue/claim.js';
import { finishTasks } from '../../src/queue/finish.js';
import { recordProgress } from '../../src/queue/record-progress.js';
import type { TaskEventJson } from '../../src/queue/task-row.js';
import { CreateApiKeyMutation } from '../client/operations.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { redisServerAvailable, spawnWorkerProcess, startPrivateRedis } from '../utils/processes.js';
import { collect, listen, sseClient } from '../utils/sse.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
afterEach(() => h.stopWorkers());

const progress = `subscription($taskId: ID!, $after: Int) {
  taskProgress(taskId: $taskId, afterSequence: $after) { sequence status progressPercent currentStep message task { id status } } }`;
const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

async function logOf(taskId: string) {
  return (await db().taskEvent.findMany({ where: { taskId }, orderBy: { sequence: 'asc' } })).map(
    (e) => e.sequence,
  );
}

function expectGapFree(sequences: number[], from = 1) {
  expect(sequences).toEqual(sequences.map((_, i) => from + i));
}

describe('taskProgress', () => {
  for (const singleConnection of [false, true]) {
    it(`sends the current state, then every change, and ends after the terminal one (${singleConnection ? 'single' : 'distinct'} connection)`, async () => {
      const app = await h.startApp();
      const row = await enqueueTestTask(
        app.pubsub,
        testSleep,
        { ms: 400 },
        { ownerId: await adminUserId() },
      );
      const client = sseClient({
        url: `${app.baseUrl}/graphql/stream`,
        key: h.adminKey,
        singleConnection,
      });
      h.onCleanup(() => client.dispose());
      const events: any[] = [];
      const { done } = listen<any>(
        client,
        progress,
        { taskId: toGlobalId('Task', row.id) },
        (value) => events.push(value.data!.taskProgress),
      );
      await waitFor(async () => events.length > 0, 'the current state');
      expect(events[0]).toMatchObject({ sequence: 1, status: 'PENDING', message: 'enqueued' });
      await h.startWorker(app.pubsub);
      await done;
      expect(events.at(-1)).toMatchObject({
        status: 'COMPLETED',
        progressPercent: 100,
        task: { status: 'COMPLETED' },
      });
      expectGapFree(events.map((e) => e.sequence));
      expect(events.map((e) => e.sequence)).toEqual(await logOf(row.id));
      // Progress is coalesced at the source: a few writes per second, not one per report.
      const progressEvents = events.filter(
        (e) => e.status === 'RUNNING' && e.currentStep === 'sleeping',
      );
      expect(progressEvents.length).toBeGreaterThan(0);
      expect(progressEvents.length).toBeLessThanOrEqual(5);
      // ~4 writes/s per task counting the claim's RUNNING event: the first report does not follow it at once.
      const running = (
        await db().taskEvent.findMany({
          where: { taskId: row.id, status: 'RUNNING' },
          orderBy: { sequence: 'asc' },
        })
      ).map((e) => e.at.getTime());
      expect(running.length).toBeGreaterThan(1);
      for (let i = 1; i < running.length; i++)
        expect(running[i]! - running[i - 1]!).toBeGreaterThanOrEqual(150);
    });
  }

  it('resumes after a disconnect with afterSequence: no gap, no duplicate', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 800 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    await h.startWorker(app.pubsub);
    const firstPart: any[] = [];
    const first = listen<any>(client, progress, { taskId }, (value) =>
      firstPart.push(value.data!.taskProgress),
    );
    await waitFor(
      async () => firstPart.some((e) => e.status === 'RUNNING' && e.currentStep === 'sleeping'),
      'a progress event',
    );
    first.unsubscribe();
    const lastSeen = firstPart.at(-1).sequence;
    await waitFor(
      async () => (await db().task.findUnique({ where: { id: row.id } }))?.status === 'COMPLETED',
      'completion while disconnected',
    );
    const rest = (await collect<any>(client, progress, { taskId, after: lastSeen })).map(
      (r) => r.data!.taskProgress,
    );
    const all = [...firstPart.map((e) => e.sequence), ...rest.map((e) => e.sequence)];
    const log = await logOf(row.id);
    // From the state at subscription time on: every event exactly once, across the reconnect.
    expect(all).toEqual(log.slice(log.indexOf(all[0]!)));
    expect(rest[0].sequence).toBe(lastSeen + 1);
    expect(rest.at(-1).status).toBe('COMPLETED');
    // A client that already saw the end gets nothing more.
    expect(await collect(client, progress, { taskId, after: all.at(-1) })).toEqual([]);
    // One that joins after the end gets the final state at once.
    expect(
      (await collect<any>(client, progress, { taskId })).map((r) => r.data!.taskProgress.status),
    ).toEqual(['COMPLETED']);
  });

  it('replays a log longer than one read (500 events) from afterSequence, then ends', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    // A long-running task's log, written as the worker would: 1,199 more events, the last terminal.
    await db().$executeRaw`
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT ${row.id}::uuid, n, CASE WHEN n = 1200 THEN 'COMPLETED' ELSE 'RUNNING' END::"TaskStatus", n / 12, 'working', NULL
      FROM generate_series(2, 1200) AS n`;
    await db().task.update({
      where: { id: row.id },
      data: {
        status: 'COMPLETED',
        lastSequence: 1200,
        progressPercent: 100,
        completedAt: new Date(),
      },
    });
    const client = sseClient({
      url: `${app.baseUrl}/graphql/stream`,
      key: h.adminKey,
      singleConnection: true,
    });
    h.onCleanup(() => client.dispose());
    const replay = (
      await collect<any>(client, progress, { taskId: toGlobalId('Task', row.id), after: 0 })
    ).map((r) => r.data!.taskProgress);
    expectGapFree(replay.map((e) => e.sequence));
    expect(replay).toHaveLength(1200);
    expect(replay.at(-1)).toMatchObject({ sequence: 1200, status: 'COMPLETED' });
  });

  it('serves the same feed as an async iterator (what graphql-js asks of a subscribe resolver)', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 300 },
      { ownerId: await adminUserId() },
    );
    const hub = new TaskFeed(app.pubsub, 100);
    h.onCleanup(() => hub.close());
    await h.startWorker(app.pubsub);
    const seen: [number, string][] = [];
    for await (const event of hub.follow(row.id, 0)) seen.push([event.sequence, event.status]);
    expect(seen.map(([sequence]) => sequence)).toEqual(await logOf(row.id));
    expect(seen.at(-1)?.[1]).toBe('COMPLETED');
    // Leaving early ends the iteration at once and frees the hub's watch.
    await h.stopWorkers();
    const quiet = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    const feed = hub.follow(quiet.id);
    expect((await feed.next()).value).toMatchObject({ sequence: 1, status: 'PENDING' });
    const pending = feed.next();
    await feed.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(hub.size).toBe(0);
  });

  it('reads the log once per change for all followers of a task, not once per follower', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 600 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    const followers = 12;
    const subscriptions = await Promise.all(
      Array.from({ length: followers }, () => subscribeAll(app, taskId, false)),
    );
    h.queryLog.length = 0;
    await h.startWorker(app.pubsub);
    await Promise.all(subscriptions.map((s) => s.done));
    const log = await logOf(row.id);
    for (const { events } of subscriptions) expect(events.map((e) => e.sequence)).toEqual(log);
    const eventReads = h.queryLog.filter((sql) => /FROM "public"."task_events"/.test(sql)).length;
    // At most one hub read per change (+ the 1 s poll), never one per follower per change.
    expect(eventReads).toBeLessThan(log.length + 5);
  });

  it('keeps every operation of a single-connection stream apart, same selection or not', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 600 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    const bySequence =
      'subscription($taskId: ID!) { taskProgress(taskId: $taskId) { sequence status } }';
    const byProgress =
      'subscription($taskId: ID!) { taskProgress(taskId: $taskId) { sequence progressPercent } }';
    // One stream where the two selections alternate (no two neighbours share a result), one
    // where five operations share every result (written from the stream's cached block).
    const mixed = sseClient({
      url: `${app.baseUrl}/graphql/stream`,
      key: h.adminKey,
      singleConnection: true,
    });
    const uniform = sseClient({
      url: `${app.baseUrl}/graphql/stream`,
      key: h.adminKey,
      singleConnection: true,
    });
    h.onCleanup(() => (mixed.dispose(), uniform.dispose()));
    const plan = [
      ...[0, 1, 2, 3, 4, 5].map((i) => [mixed, i % 2 ? byProgress : bySequence] as const),
      ...[0, 1, 2, 3, 4].map(() => [uniform, bySequence] as const),
    ];
    const subscriptions = await Promise.all(
      plan.map(async ([client, query]) => {
        const events: any[] = [];
        const { done } = listen<any>(client, query, { taskId }, (value) =>
          events.push(value.data!.taskProgress),
        );
        await waitFor(async () => events.length > 0, 'the current state');
        return { events, done, query };
      }),
    );
    await h.startWorker(app.pubsub);
    await Promise.all(subscriptions.map((s) => s.done));
    const log = await logOf(row.id);
    for (const { events, query } of subscriptions) {
      expect(events.map((e) => e.sequence)).toEqual(log);
      const field = query === byProgress ? 'progressPercent' : 'status';
      expect(
        events.every((e) => Object.keys(e).sort().join() === ['sequence', field].sort().join()),
      ).toBe(true);
    }
  });

  it('executes each event once for all followers with the same selection, not once per follower', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 600 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    // Task.events reads the log on every execution (findMany: Prisma does not batch it).
    const withLog = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { sequence status task { events(first: 1) { edges { node { sequence } } } } } }`;
    const followers = 12;
    const subscriptions = await Promise.all(
      Array.from({ length: followers }, async () => {
        const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
        h.onCleanup(() => client.dispose());
        const events: any[] = [];
        const { done } = listen<any>(client, withLog, { taskId }, (value) =>
          events.push(value.data!.taskProgress),
        );
        await waitFor(async () => events.length > 0, 'the current state');
        return { events, done };
      }),
    );
    h.queryLog.length = 0;
    await h.startWorker(app.pubsub);
    await Promise.all(subscriptions.map((s) => s.done));
    const log = await logOf(row.id);
    for (const { events } of subscriptions) {
      expect(events.map((e) => e.sequence)).toEqual(log);
      expect(events.every((e) => e.task.events.edges[0].node.sequence === 1)).toBe(true);
    }
    const liveEvents = log.length - 1;
    const logReads = h.queryLog.filter((sql) => /FROM "public"."task_events"/.test(sql)).length;
    // Per live event: one shared execution and at most one hub read (+ the 1 s poll), never one per follower.
    expect(logReads).toBeGreaterThanOrEqual(liveEvents);
    expect(logReads).toBeLessThan(2 * liveEvents + 5);
  });

  it('delivers the event a notification carries as the log holds it, without reading it back; a gap or a repeat is read from the log', async () => {
    const app = await h.startApp();
    // HIGH: the claim below takes the first runnable task of this file's database.
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId(), priority: 'HIGH' },
    );
    const hub = new TaskFeed(app.pubsub, 60_000); // no poll during the test
    h.onCleanup(() => hub.close());
    const feed = hub.follow(row.id);
    const eventReads = () =>
      h.queryLog.filter((sql) => /FROM "public"."task_events"/.test(sql)).length;
    h.queryLog.length = 0;
    expect((await feed.next()).value).toMatchObject({ sequence: 1, status: 'PENDING' });
    // The follower has read the latest event and caught up from it.
    await waitFor(async () => eventReads() >= 2, "the follower's reads");
    const announce = (event: TaskEventJson) =>
      app.pubsub.publish('taskEvents', row.id, { taskId: row.id, sequence: event.sequence, event });

    const [claimed] = await claimTasks(db(), 'test-worker', ['test_sleep'], 10_000, 1);
    expect(claimed!.id).toBe(row.id);
    h.queryLog.length = 0;
    await announce(claimed!.event!);
    const delivered = [(await feed.next()).value];
    expect(delivered[0]).toMatchObject({ sequence: 2, status: 'RUNNING' });
    expect(eventReads()).toBe(0);

    // Sequence 3 is never announced: the announcement of 4 finds the gap and reads both.
    await recordProgress(db(), row.id, 'test-worker', 50, 'halfway');
    const fourth = (await recordProgress(db(), row.id, 'test-worker', 70, 'nearly'))!;
    await announce(fourth);
    delivered.push((await feed.next()).value, (await feed.next()).value);
    expect(eventReads()).toBeGreaterThan(0);
    // A repeated announcement delivers nothing twice.
    await announce(fourth);
    const [finished] = await finishTasks(db(), 'test-worker', [
      { taskId: row.id, status: 'COMPLETED', result: null, message: 'completed' },
    ]);
    await announce(finished!.event!);
    delivered.push((await feed.next()).value);
    expect(await feed.next()).toEqual({ value: undefined, done: true });

    const log = await db().taskEvent.findMany({
      where: { taskId: row.id, sequence: { gt: 1 } },
      orderBy: { sequence: 'asc' },
    });
    const withoutId = ({ id: _id, ...event }: Record<string, unknown>) => event;
    expect(delivered.map(withoutId)).toEqual(log.map(withoutId));
  });

  it("answers an unknown task and another team's task with NOT_FOUND", async () => {
    const app = await h.startApp();
    // A team the peeker is not in (the default team, the operator's, is everyone's).
    const elsewhere = await db().team.create({
      data: { slug: 'feeds-elsewhere', name: 'Elsewhere' },
    });
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId(), teamId: elsewhere.id },
    );
    const key = (
      await h.gql(CreateApiKeyMutation, { input: { user: 'peeker', name: 'k', scopes: ['READ'] } })
    ).data!.createApiKey.key;
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key });
    h.onCleanup(() => client.dispose());
    for (const taskId of [
      toGlobalId('Task', row.id),
      toGlobalId('Task', '00000000-0000-0000-0000-000000000000'),
    ]) {
      const results = await collect(client, progress, { taskId });
      expect(results.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });
});

async function subscribeAll(app: TestApp, taskId: string, singleConnection: boolean) {
  const client = sseClient({
    url: `${app.baseUrl}/graphql/stream`,
    key: h.adminKey,
    singleConnection,
  });
  h.onCleanup(() => client.dispose());
  const events: any[] = [];
  const { done } = listen<any>(client, progress, { taskId }, (value) =>
    events.push(value.data!.taskProgress),
  );
  await waitFor(async () => events.length > 0, 'the current state');
  return { events, done };
}

describe.skipIf(!redisAvailable)('across processes through Redis', () => {
  it('delivers events from a worker process to subscribers of two API processes', async () => {
    const apiA = await h.startApp({ pubsub: 'redis' });
    const apiB = await h.startApp({ pubsub: 'redis' });
    const worker = spawnWorkerProcess(h, { redisUrl: h.redisUrl });
    await worker.ready;
    const row = await enqueueTestTask(
      apiA.pubsub,
      testSleep,
      { ms: 300 },
      { ownerId: await adminUserId() },
    );
    const taskId = toGlobalId('Task', row.id);
    const onA = await subscribeAll(apiA, taskId, false);
    const onB = await subscribeAll(apiB, taskId, true);
    await Promise.all([onA.done, onB.done]);
    const log = await logOf(row.id);
    for (const { events } of [onA, onB]) {
      expect(events.at(-1).status).toBe('COMPLETED');
      // The first event is the state at subscription time; from there on, every event.
      expect(events.map((e) => e.sequence)).toEqual(log.slice(log.indexOf(events[0].sequence)));
    }
    await worker.kill();
  });
});

describe.skipIf(!redisServerAvailable)('Redis restarting mid-run', () => {
  it('loses no task and no event: workers and subscribers fall back to the database', async () => {
    const redis = await startPrivateRedis(h);
    const prefix = h.pubsubPrefix;
    const { createRedisPubSub } = await import('../../src/platform/pubsub.js');
    // The API and the worker of this test talk to the private Redis.
    const pubsub = createRedisPubSub(redis.url, prefix);
    const app = await h.startApp({ pubsub });
    await h.startWorker(pubsub);

    const owner = await adminUserId();
    const rows = await Promise.all(
      [1, 2, 3].map(() => enqueueTestTask(pubsub, testSleep, { ms: 1_500 }, { ownerId: owner })),
    );
    const subscriptions = await Promise.all(
      rows.map((row) => subscribeAll(app, toGlobalId('Task', row.id), false)),
    );
    await waitFor(
      async () =>
        (await db().task.count({
          where: { id: { in: rows.map((r) => r.id) }, status: 'RUNNING' },
        })) > 0,
      'a running task',
    );
    await redis.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 700));
    await startPrivateRedis(h, redis.port);
    await Promise.all(subscriptions.map((s) => s.done));
    for (const [index, row] of rows.entries()) {
      const log = await logOf(row.id);
      const seen = subscriptions[index]!.events.map((e) => e.sequence);
      expect(seen).toEqual(log.slice(log.indexOf(seen[0])));
      expect(subscriptions[index]!.events.at(-1).status).toBe('COMPLETED');
    }
  });
});

describe('leaving', () => {
  it('frees the server side of a subscription to a quiet task as soon as the client leaves', async () => {
    const app = await h.startApp();
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const subscription = listen<any>(
      client,
      progress,
      { taskId: toGlobalId('Task', row.id) },
      (value) => events.push(value),
    );
    await waitFor(async () => events.length > 0, 'the current state');
    // Nobody works on the task (no worker): the stream is quiet. The client leaves.
    subscription.unsubscribe();
    await waitFor(
      async () => {
        const reads = h.queryLog.length;
        await new Promise((resolve) => setTimeout(resolve, 1_200)); // longer than the hub's poll
        return h.queryLog.slice(reads).every((sql) => !/FROM "public"."task_events"/.test(sql));
      },
      'the hub to stop polling the task',
      10_000,
    );
  });
});

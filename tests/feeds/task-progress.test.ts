// taskProgress over graphql-sse: current state first, every change in order, the end;
// resumable with afterSequence; a long log replayed; the feed as an async iterator; another
// team's task NOT_FOUND; a quiet subscription freed when its client leaves.
import { describe, expect, it } from 'vitest';
import { TaskFeed } from '../../src/feeds/task-feed.js';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { CreateApiKeyMutation } from '../client/operations.js';
import { collect, listen, sseClient } from '../utils/sse.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, expectGapFree, logOf, progress, useTaskProgress } from './fixture.js';

const { h } = useTaskProgress();

/** A sleeping test task of the operator's, and an SSE client of the operator's. */
async function sleepingTask(ms: number) {
  const app = await h.startApp();
  const row = await enqueueTestTask(
    app.pubsub,
    testSleep,
    { ms },
    { ownerId: await adminUserId() },
  );
  const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
  h.onCleanup(() => client.dispose());
  return { app, row, taskId: toGlobalId('Task', row.id), client };
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
      // The first report does not follow the start at once (a report a PROGRESS_INTERVAL_MS at
      // most, counting the start): its event is at least that long after the task's startedAt.
      // From startedAt, the claim's clock, taken before the reporter starts counting (a report
      // reaches the database no sooner than it is sent), not from the RUNNING event's `at`:
      // that is when a turn recorded the start, later under load (over 100 ms once in CI).
      const { startedAt } = await db().task.findUniqueOrThrow({ where: { id: row.id } });
      const [firstReport] = await db().taskEvent.findMany({
        where: { taskId: row.id, status: 'RUNNING', currentStep: 'sleeping' },
        orderBy: { sequence: 'asc' },
        take: 1,
      });
      expect(firstReport!.at.getTime() - startedAt!.getTime()).toBeGreaterThanOrEqual(150);
    });
  }

  it('resumes after a disconnect with afterSequence: no gap, no duplicate', async () => {
    const { app, row, taskId, client } = await sleepingTask(800);
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

  it('refuses an afterSequence past the log, and a replay across a terminal event that the log went on from follows it to the last end', async () => {
    const { row, taskId, client } = await sleepingTask(1);
    // Pending: a follower past its last event would wait for ever.
    for (const [after, reason] of [
      [-1, 'NEGATIVE'],
      [2, 'AFTER_LAST_EVENT'],
    ] as const) {
      const results = await collect(client, progress, { taskId, after });
      expect(results.map((r) => r.errors?.[0]?.extensions)).toEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'afterSequence', reason }),
      ]);
    }
    // A log that went on after a terminal event (a task failed, then retried): 2 FAILED, then
    // 3 PENDING and 4 COMPLETED, as retryTask and the worker write them.
    await db().$executeRaw`
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      VALUES (${row.id}::uuid, 2, 'FAILED', 0, 'failed', 'boom'),
             (${row.id}::uuid, 3, 'PENDING', 0, 'queued', 'retried'),
             (${row.id}::uuid, 4, 'COMPLETED', 100, 'completed', NULL)`;
    await db().task.update({
      where: { id: row.id },
      data: { status: 'COMPLETED', lastSequence: 4, progressPercent: 100, completedAt: new Date() },
    });
    const replay = (await collect<any>(client, progress, { taskId, after: 1 })).map(
      (r) => r.data!.taskProgress,
    );
    expect(replay.map((e) => [e.sequence, e.status])).toEqual([
      [2, 'FAILED'],
      [3, 'PENDING'],
      [4, 'COMPLETED'],
    ]);
  });

  it('starts from the row of a task whose log is still empty (claimed with no event yet), and follows it', async () => {
    const app = await h.startApp();
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    // As a workflow commit writes its continuations: claimed, no "enqueued" event.
    const row = await db().task.create({
      data: {
        type: 'test_sleep',
        payload: { ms: 1 },
        ownerId: await adminUserId(),
        teamId,
        status: 'RUNNING',
        attempts: 1,
        lockedBy: 'test-worker',
        lockedUntil: new Date(Date.now() + 60_000),
        lastSequence: 0,
      },
    });
    const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const { done } = listen<any>(
      client,
      progress,
      { taskId: toGlobalId('Task', row.id) },
      (value) => events.push(value.data!.taskProgress),
    );
    await waitFor(async () => events.length > 0, 'the current state');
    expect(events[0]).toMatchObject({ sequence: 0, status: 'RUNNING' });
    const { writeTaskChanges } = await import('../../src/queue/write-changes.js');
    const [ended] = await writeTaskChanges(
      db(),
      'test-worker',
      [{ kind: 'COMPLETED', taskId: row.id, attempt: 1, result: {}, message: 'completed' }],
      { baseMs: 10, maxMs: 10, maxLeaseLosses: 3, maxPostponements: 3 },
    );
    const { announceTaskEvent } = await import('../../src/queue/signals.js');
    await announceTaskEvent(app.pubsub, ended!);
    await done;
    expect(events.map((event) => [event.sequence, event.status])).toEqual([
      [0, 'RUNNING'],
      [1, 'COMPLETED'],
    ]);
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

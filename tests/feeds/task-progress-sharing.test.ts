// taskProgress shared between followers: the log read once per change and each event
// executed once per selection for all followers of a task, the operations of one
// single-connection stream kept apart, and a notification's event delivered as it comes.
import { describe, expect, it } from 'vitest';
import { TaskFeed } from '../../src/feeds/task-feed.js';
import { db } from '../../src/platform/db.js';
import { claimTasks } from '../../src/queue/claim.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import type { TaskEventJson } from '../../src/queue/task-row.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { listen, sseClient } from '../utils/sse.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';
import { adminUserId, logOf, progressWithLog, useTaskProgress } from './fixture.js';

const { h, subscribeAll, follow } = useTaskProgress();

describe('taskProgress', () => {
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
    const followers = 12;
    const subscriptions = await Promise.all(
      Array.from({ length: followers }, () => follow(app, taskId, { query: progressWithLog })),
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
    const BACKOFF = { baseMs: 20, maxMs: 200, maxLeaseLosses: 3, maxPostponements: 3 };
    const announce = (event: TaskEventJson) =>
      app.pubsub.publish('taskEvents', row.id, { taskId: row.id, sequence: event.sequence, event });

    const claim = { types: ['test_sleep'], leaseMs: 10_000, limit: 1, startNow: 1 };
    const [claimed] = await claimTasks(db(), 'test-worker', claim);
    expect(claimed!.id).toBe(row.id);
    const change = (kind: 'START' | 'PROGRESS', percent = 0, step: string | null = null) =>
      writeTaskChanges(
        db(),
        'test-worker',
        [
          kind === 'START'
            ? { kind, taskId: row.id, attempt: 1 }
            : { kind, taskId: row.id, attempt: 1, percent, step },
        ],
        BACKOFF,
      ).then(([changed]) => changed!.event!);
    h.queryLog.length = 0;
    await announce(await change('START'));
    const delivered = [(await feed.next()).value];
    expect(delivered[0]).toMatchObject({ sequence: 2, status: 'RUNNING' });
    expect(eventReads()).toBe(0);

    // Sequence 3 is never announced: the announcement of 4 finds the gap and reads both.
    await change('PROGRESS', 50, 'halfway');
    const fourth = await change('PROGRESS', 70, 'nearly');
    await announce(fourth);
    delivered.push((await feed.next()).value, (await feed.next()).value);
    expect(eventReads()).toBeGreaterThan(0);
    // A repeated announcement delivers nothing twice.
    await announce(fourth);
    const [finished] = await writeTaskChanges(
      db(),
      'test-worker',
      [{ kind: 'COMPLETED', taskId: row.id, attempt: 1, result: null, message: 'completed' }],
      BACKOFF,
    );
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
});

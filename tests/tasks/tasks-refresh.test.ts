// Coverage refresh as a background task: PENDING at once, completed by a worker with its
// events and one history entry, idempotent per caller, queued by priority; a task is its
// team's alone, and the queue's statistics.
import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { db, poolQueryable } from '../../src/platform/db.js';
import { violatedForeignKey } from '../../src/platform/errors.js';
import { insertTask } from '../../src/queue/insert-task.js';
import { maskError } from '../../src/schema/errors.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { CreateApiKeyMutation } from '../client/operations.js';
import { errorCodes } from '../utils/graphql.js';
import { finished, refresh, taskQuery, useTasks } from './fixture.js';
import { rowId } from '../utils/ids.js';

const { h, agentFixture, taskUntil } = useTasks();

describe('background coverage refresh', () => {
  it('returns a PENDING task at once, which a worker completes with progress events and one history entry', async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    const response = await h.gql(refresh, { input: { agentId: agent.id, priority: 'HIGH' } });
    expect(response.errors).toBeUndefined();
    const queued = response.data.refreshCoverage;
    expect(queued.coverage).toBeNull();
    expect(queued.task).toMatchObject({
      status: 'PENDING',
      priority: 'HIGH',
      queuePosition: 1,
      progressPercent: 0,
      attempts: 0,
      agent: { id: agent.id },
    });
    expect(queued.task.estimatedCompletionAt).not.toBeNull();

    await h.startWorker(app.pubsub);
    const done = await taskUntil(queued.task.id, (t) => finished(t.status));
    expect(done).toMatchObject({
      status: 'COMPLETED',
      progressPercent: 100,
      attempts: 1,
      queuePosition: null,
      error: null,
    });
    expect(done.result).toMatchObject({ overallCoverage: 100, totalDocuments: expect.any(Number) });
    const events = done.events.edges.map((e: any) => e.node);
    expect(events.map((e: any) => e.sequence)).toEqual(
      events.map((_: unknown, i: number) => i + 1),
    );
    expect(events[0]).toMatchObject({ status: 'PENDING', message: 'enqueued' });
    // Its start, unless it ended within the worker's turn (then its end is its second event).
    expect(['RUNNING', 'COMPLETED']).toContain(events[1].status);
    expect(events.at(-1)).toMatchObject({ status: 'COMPLETED', progressPercent: 100 });
    const history = await db().coverageHistory.findMany({ where: { agentId: rowId(agent.id) } });
    expect(history).toHaveLength(1);
    expect(history[0]!.taskId).toBe(rowId(queued.task.id));
    const agentRow = await db().agent.findUniqueOrThrow({ where: { id: rowId(agent.id) } });
    expect(agentRow.coveragePercent).toBe(100);
  });

  it('answers an unknown or malformed agent id with NOT_FOUND and queues nothing', async () => {
    const before = [await db().task.count(), await db().taskEvent.count()];
    for (const agentId of [
      toGlobalId('Agent', '00000000-0000-0000-0000-000000000000'),
      'not-an-id',
      toGlobalId('Task', '00000000-0000-0000-0000-000000000000'),
    ]) {
      expect(errorCodes(await h.gql(refresh, { input: { agentId } }))).toEqual(['NOT_FOUND']);
    }
    expect([await db().task.count(), await db().taskEvent.count()]).toEqual(before);
  });

  it("maps a raw statement's foreign-key violation to BAD_USER_INPUT, not INTERNAL, and writes nothing", async () => {
    const before = [await db().task.count(), await db().taskEvent.count()];
    // Through Prisma (in a caller's transaction) and on the pool (an enqueue alone).
    for (const client of [db(), poolQueryable()]) {
      // An owner that does not exist (e.g. deleted while its request ran).
      const failure = await insertTask(client, {
        type: 'test_sleep',
        payload: {},
        priority: 'LOW',
        maxAttempts: 1,
        timeoutSeconds: 10,
        ownerId: randomUUID(),
      }).catch((error: unknown) => error);
      expect(maskError(failure).message).toBe('A referenced record does not exist');
      expect((maskError(failure) as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      expect(violatedForeignKey(failure)).toBe('tasks_ownerId_fkey');
    }
    expect([await db().task.count(), await db().taskEvent.count()]).toEqual(before);
  });

  it('returns the same task for the same idempotency key, per caller', async () => {
    const agent = await agentFixture();
    const input = { agentId: agent.id, idempotencyKey: 'nightly-2026-11-21' };
    const first = (await h.gql(refresh, { input })).data.refreshCoverage.task.id;
    const again = (await h.gql(refresh, { input })).data.refreshCoverage.task.id;
    expect(again).toBe(first);
    const other = (
      await h.gql(CreateApiKeyMutation, {
        input: { user: 'idem-other', name: 'k', scopes: ['WRITE'] },
      })
    ).data!.createApiKey.key;
    const theirs = (await h.gql(refresh, { input }, other)).data.refreshCoverage.task.id;
    expect(theirs).not.toBe(first);
    expect(await db().task.count({ where: { idempotencyKey: 'nightly-2026-11-21' } })).toBe(2);
    // Other input under the key: a CONFLICT that names it, no task of it, none answered for it.
    const elsewhere = await agentFixture();
    for (const changed of [
      { agentId: elsewhere.id },
      { priority: 'HIGH' },
      { webhookUrl: 'https://example.com/hook' },
    ]) {
      const response = await h.gql(refresh, { input: { ...input, ...changed } });
      expect(response.data?.refreshCoverage ?? null).toBeNull();
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'CONFLICT',
        reason: 'IDEMPOTENCY_KEY_USED',
      });
    }
    expect(await db().task.count({ where: { idempotencyKey: 'nightly-2026-11-21' } })).toBe(2);
    expect(await db().task.count({ where: { agentId: rowId(elsewhere.id) } })).toBe(0);
  });

  it('orders the queue by priority then age, and reports the position', async () => {
    const agent = await agentFixture();
    const low = (await h.gql(refresh, { input: { agentId: agent.id, priority: 'LOW' } })).data
      .refreshCoverage.task;
    const medium = (await h.gql(refresh, { input: { agentId: agent.id, priority: 'MEDIUM' } })).data
      .refreshCoverage.task;
    const high = (await h.gql(refresh, { input: { agentId: agent.id, priority: 'HIGH' } })).data
      .refreshCoverage.task;
    const position = async (id: string) => (await h.gql(taskQuery, { id })).data.task.queuePosition;
    const positions = [await position(high.id), await position(medium.id), await position(low.id)];
    expect(positions[0]).toBeLessThan(positions[1]);
    expect(positions[1]).toBeLessThan(positions[2]);
  });
});

describe('visibility and statistics', () => {
  // A task belongs to the team of the key that asked for it: here a user's personal team
  // (the operator's tasks belong to the default team, which every user joins).
  it("keeps another team's task NOT_FOUND everywhere", async () => {
    const agent = await agentFixture();
    const mint = async (user: string) =>
      (
        await h.gql(CreateApiKeyMutation, {
          input: { user, name: 'k', scopes: ['WRITE'] },
        })
      ).data!.createApiKey.key;
    const owner = await mint('task-owner');
    const task = (await h.gql(refresh, { input: { agentId: agent.id } }, owner)).data
      .refreshCoverage.task;
    const key = await mint('stranger');
    expect((await h.gql(taskQuery, { id: task.id }, key)).data.task).toBeNull();
    expect(
      errorCodes(
        await h.gql('mutation($id: ID!) { cancelTask(id: $id) { id } }', { id: task.id }, key),
      ),
    ).toEqual(['NOT_FOUND']);
    expect(
      errorCodes(
        await h.gql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id: task.id }, key),
      ),
    ).toEqual(['NOT_FOUND']);
    const theirs = await h.gql('{ tasks(first: 100) { edges { node { id } } } }', {}, key);
    expect(theirs.data.tasks.edges.map((e: any) => e.node.id)).not.toContain(task.id);
    const mine = await h.gql(
      'query($id: ID!) { agent(id: $id) { tasks { totalCount edges { node { id } } } } }',
      { id: agent.id },
    );
    expect(mine.data.agent.tasks.edges.map((e: any) => e.node.id)).toContain(task.id);
  });

  it('counts tasks by status and priority with the oldest pending age', async () => {
    const agent = await agentFixture();
    await h.gql(refresh, { input: { agentId: agent.id, priority: 'LOW' } });
    const stats = (
      await h.gql(
        '{ queueStats { pending running completed failed dead byPriority oldestPendingAgeSeconds workersAlive } }',
      )
    ).data.queueStats;
    expect(stats.pending).toBe(await db().task.count({ where: { status: 'PENDING' } }));
    expect(stats.byPriority.LOW).toBe(
      await db().task.count({ where: { status: 'PENDING', priority: 'LOW' } }),
    );
    expect(stats.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(0);
  });
});

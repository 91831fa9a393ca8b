import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import { db } from '../../src/platform/db.js';
import { maskError } from '../../src/schema/errors.js';
import { insertTask } from '../../src/queue/insert-task.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { CreateAgentMutation, CreateApiKeyMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { enqueueTestTask, testFail, testSleep } from '../utils/test-tasks.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
// Each test owns the queue: no worker outlives the test that started it.
afterEach(() => h.stopWorkers());
const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const adminUserId = async () =>
  (await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} })).id;

async function agentFixture() {
  const corpus = await createCorpus(h);
  const response = await h.gql(CreateAgentMutation, {
    input: {
      name: 'Tasks agent',
      taxonomyVersion: corpus.version,
      taxonomyNodeIds: [corpus.nodeIds.ai],
    },
  });
  return response.data!.createAgentFromTaxonomy;
}

const refresh = `mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) {
  task { id status priority queuePosition progressPercent attempts webhookUrl agent { id } estimatedCompletionAt } coverage { overallCoverage } } }`;
const taskQuery = `query($id: ID!) { task(id: $id) { id type status progressPercent currentStep queuePosition attempts result error
  cancellationRequested startedAt completedAt events(first: 100) { edges { node { sequence status progressPercent currentStep message } } } } }`;
const finished = (status: string) =>
  ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'].includes(status);

async function taskUntil(id: string, done: (task: any) => boolean) {
  return waitFor(async () => {
    const task = (await h.gql(taskQuery, { id })).data?.task;
    return task && done(task) ? task : undefined;
  }, `task ${id}`);
}

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
    expect(events[1]).toMatchObject({ status: 'RUNNING' });
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
    // An owner that does not exist (e.g. deleted while its request ran).
    const failure = await insertTask(db(), {
      type: 'test_sleep',
      payload: {},
      priority: 'LOW',
      maxAttempts: 1,
      timeoutSeconds: 10,
      ownerId: randomUUID(),
    }).catch((error: unknown) => error);
    expect(maskError(failure).message).toBe('A referenced record does not exist');
    expect((maskError(failure) as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
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

describe('cancel', () => {
  it('cancels a PENDING task at once, and it never runs', async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    const task = (await h.gql(refresh, { input: { agentId: agent.id } })).data.refreshCoverage.task;
    const cancelled = await h.gql(
      'mutation($id: ID!) { cancelTask(id: $id) { status cancellationRequested completedAt } }',
      { id: task.id },
    );
    expect(cancelled.data.cancelTask).toMatchObject({
      status: 'CANCELLED',
      cancellationRequested: true,
    });
    await h.startWorker(app.pubsub);
    const marker = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    await taskUntil(toGlobalId('Task', marker.id), (t) => t.status === 'COMPLETED');
    const after = (await h.gql(taskQuery, { id: task.id })).data.task;
    expect(after).toMatchObject({ status: 'CANCELLED', attempts: 0, startedAt: null });
    expect(await db().coverageHistory.count({ where: { agentId: rowId(agent.id) } })).toBe(0);
  });

  it('stops a RUNNING task through its AbortSignal, ending CANCELLED', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 60_000 },
      { ownerId: await adminUserId() },
    );
    const id = toGlobalId('Task', row.id);
    await taskUntil(id, (t) => t.status === 'RUNNING');
    const asked = await h.gql(
      'mutation($id: ID!) { cancelTask(id: $id) { status cancellationRequested } }',
      { id },
    );
    expect(asked.data.cancelTask).toEqual({ status: 'RUNNING', cancellationRequested: true });
    const done = await taskUntil(id, (t) => finished(t.status));
    expect(done).toMatchObject({ status: 'CANCELLED', error: 'cancelled while running' });
    expect(done.events.edges.map((e: any) => e.node.message)).toContain('cancellation requested');
  });

  it('answers a finished task with CONFLICT and an unknown one with NOT_FOUND', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: await adminUserId() },
    );
    const id = toGlobalId('Task', row.id);
    await taskUntil(id, (t) => t.status === 'COMPLETED');
    const cancel = 'mutation($id: ID!) { cancelTask(id: $id) { status } }';
    expect(errorCodes(await h.gql(cancel, { id }))).toEqual(['CONFLICT']);
    expect(
      errorCodes(
        await h.gql(cancel, { id: toGlobalId('Task', '00000000-0000-0000-0000-000000000000') }),
      ),
    ).toEqual(['NOT_FOUND']);
  });
});

describe('timeouts, retries and the dead letter', () => {
  it('ends a task that overruns its timeout as TIMEOUT', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testSleep,
      { ms: 60_000 },
      { ownerId: await adminUserId(), timeoutSeconds: 1 },
    );
    const done = await taskUntil(toGlobalId('Task', row.id), (t) => finished(t.status));
    expect(done).toMatchObject({ status: 'TIMEOUT', error: 'timed out after 1 s' });
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 2 },
      { ownerId: await adminUserId() },
    );
    const done = await taskUntil(toGlobalId('Task', row.id), (t) => finished(t.status));
    expect(done).toMatchObject({
      status: 'COMPLETED',
      attempts: 3,
      result: { succeededOnAttempt: 3 },
    });
    expect(
      done.events.edges.filter((e: any) => /failed, retry at/.test(e.node.message ?? '')),
    ).toHaveLength(2);
  });

  it('dead-letters after the last attempt, and retryTask brings it back', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 5 },
      { ownerId: await adminUserId() },
    );
    const id = toGlobalId('Task', row.id);
    const dead = await taskUntil(id, (t) => finished(t.status));
    expect(dead).toMatchObject({
      status: 'DEAD',
      attempts: 3,
      error: 'transient failure on attempt 3',
    });
    const stats = (await h.gql('{ queueStats { dead workersAlive byPriority } }')).data.queueStats;
    expect(stats.dead).toBeGreaterThanOrEqual(1);
    expect(stats.workersAlive).toBeGreaterThanOrEqual(1);
    // Make the next round succeed: fewer failures than attempts.
    await db().task.update({ where: { id: row.id }, data: { payload: { failAttempts: 1 } } });
    const retried = await h.gql(
      'mutation($id: ID!) { retryTask(id: $id) { status attempts error } }',
      { id },
    );
    expect(retried.data.retryTask).toEqual({ status: 'PENDING', attempts: 0, error: null });
    expect(await taskUntil(id, (t) => finished(t.status))).toMatchObject({
      status: 'COMPLETED',
      attempts: 2,
    });
    expect(
      errorCodes(await h.gql('mutation($id: ID!) { retryTask(id: $id) { status } }', { id })),
    ).toEqual(['CONFLICT']);
  });

  it('fails a non-retryable error at once', async () => {
    const app = await h.startApp();
    await h.startWorker(app.pubsub);
    const row = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 0, nonRetryable: true },
      { ownerId: await adminUserId() },
    );
    expect(await taskUntil(toGlobalId('Task', row.id), (t) => finished(t.status))).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: 'this can never work',
    });
  });

  it('fails a refresh whose agent was deleted, without retrying', async () => {
    const agent = await agentFixture();
    const app = await h.startApp();
    const task = (await h.gql(refresh, { input: { agentId: agent.id } })).data.refreshCoverage.task;
    // Detach the task from the agent first, so the delete does not cascade to it.
    await db().task.update({ where: { id: rowId(task.id) }, data: { agentId: null } });
    await h.gql('mutation($id: ID!) { deleteAgent(id: $id) }', { id: agent.id });
    await h.startWorker(app.pubsub);
    expect(await taskUntil(task.id, (t) => finished(t.status))).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: 'the agent was deleted',
    });
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

describe('retention', () => {
  it('deletes finished tasks older than the retention period with their events, and keeps the rest', async () => {
    const { deleteFinishedTasks } = await import('../../src/queue/delete-finished.js');
    const owner = await adminUserId();
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    const old = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'COMPLETED',
        ownerId: owner,
        teamId,
        completedAt: new Date(Date.now() - 25 * 3_600_000),
      },
    });
    await db().taskEvent.create({
      data: { taskId: old.id, sequence: 1, status: 'COMPLETED', progressPercent: 100 },
    });
    const recent = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'FAILED',
        ownerId: owner,
        teamId,
        completedAt: new Date(Date.now() - 3_600_000),
      },
    });
    const pending = await db().task.create({
      data: {
        type: 'test_sleep',
        status: 'PENDING',
        ownerId: owner,
        teamId,
        createdAt: new Date(Date.now() - 48 * 3_600_000),
        runAt: new Date(Date.now() + 3_600_000),
      },
    });
    expect(await deleteFinishedTasks(db(), 24 * 3_600_000)).toBeGreaterThanOrEqual(1);
    expect(await db().task.count({ where: { id: old.id } })).toBe(0);
    expect(await db().taskEvent.count({ where: { taskId: old.id } })).toBe(0);
    expect(await db().task.count({ where: { id: { in: [recent.id, pending.id] } } })).toBe(2);
  });
});

describe("the worker's statements", () => {
  const pubsub = createInProcessPubSub('worker-statements:');
  async function claimAll(workerId: string, count: number) {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const owner = await adminUserId();
    for (let i = 0; i < count; i++)
      await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    return claimTasks(db(), workerId, ['test_sleep'], 60_000, count);
  }

  it('finishes attempts and claims the freed slots in one statement, each change with its event', async () => {
    const { finishAndClaimTasks } = await import('../../src/queue/finish-and-claim.js');
    const running = await claimAll('worker-a', 3);
    const owner = await adminUserId();
    const waiting = [];
    for (const priority of ['LOW', 'HIGH', 'MEDIUM'] as const)
      waiting.push(
        (await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner, priority })).id,
      );
    const outcomes = [
      {
        taskId: running[0]!.id,
        status: 'COMPLETED' as const,
        result: { n: 1 },
        message: 'completed',
      },
      {
        taskId: running[1]!.id,
        status: 'FAILED' as const,
        error: 'bad payload',
        message: 'failed: bad payload',
      },
      // Not held by this worker: left alone.
      { taskId: running[2]!.id, status: 'COMPLETED' as const, result: null, message: 'completed' },
    ];
    await db().task.update({ where: { id: running[2]!.id }, data: { lockedBy: 'worker-b' } });
    const { finished, claimed } = await finishAndClaimTasks(db(), 'worker-a', outcomes, {
      types: ['test_sleep'],
      leaseMs: 60_000,
      limit: 2,
    });
    expect(finished.map((row) => [row.id, row.status]).sort()).toEqual(
      [
        [running[0]!.id, 'COMPLETED'],
        [running[1]!.id, 'FAILED'],
      ].sort(),
    );
    expect(claimed.map((row) => row.id)).toEqual([waiting[1], waiting[2]]);
    const rows = await db().task.findMany({
      where: { id: { in: [...running.map((r) => r.id), ...waiting] } },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(running[0]!.id)).toMatchObject({
      status: 'COMPLETED',
      result: { n: 1 },
      progressPercent: 100,
      lockedBy: null,
    });
    expect(byId.get(running[1]!.id)).toMatchObject({
      status: 'FAILED',
      error: 'bad payload',
      lockedBy: null,
    });
    expect(byId.get(running[2]!.id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-b' });
    expect(byId.get(waiting[0]!)).toMatchObject({ status: 'PENDING' });
    for (const id of [waiting[1]!, waiting[2]!])
      expect(byId.get(id)).toMatchObject({ status: 'RUNNING', lockedBy: 'worker-a', attempts: 1 });
    for (const row of rows) {
      const events = await db().taskEvent.findMany({
        where: { taskId: row.id },
        orderBy: { sequence: 'asc' },
      });
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)).toMatchObject({ sequence: row.lastSequence, status: row.status });
    }
  });

  it('finishes a batch while the heartbeat renews the same leases without deadlocking', async () => {
    const { finishTasks } = await import('../../src/queue/finish.js');
    const { renewLeases } = await import('../../src/queue/renew-leases.js');
    const running = await claimAll('worker-a', 120);
    // Outcomes in the reverse of the table's order, while the heartbeat walks the table forwards.
    const outcomes = running
      .map((row) => ({
        taskId: row.id,
        status: 'COMPLETED' as const,
        result: null,
        message: 'completed',
      }))
      .reverse();
    const batches = Array.from({ length: 6 }, (_, i) => outcomes.slice(i * 20, i * 20 + 20));
    const heartbeats = (async () => {
      for (let i = 0; i < 40; i++) await renewLeases(db(), 'worker-a', 60_000);
    })();
    const finished = await Promise.all(
      batches.map((batch) => finishTasks(db(), 'worker-a', batch)),
    );
    await heartbeats;
    expect(finished.flat()).toHaveLength(120);
    expect(
      await db().task.count({
        where: { id: { in: running.map((r) => r.id) }, status: 'COMPLETED' },
      }),
    ).toBe(120);
  });

  it('prepares the hot statements once per connection, and only those', async () => {
    const owner = await adminUserId();
    const task = {
      type: 'test_sleep',
      priority: 'LOW' as const,
      payload: { ms: 1 },
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId: owner,
    };
    // One transaction: one connection, whose prepared statements the view lists.
    const ids: string[] = [];
    const prepared = await db().$transaction(async (tx) => {
      for (let i = 0; i < 7; i++) ids.push((await insertTask(tx, task)).task.id);
      await tx.$queryRaw`SELECT 'not marked' AS probe`;
      return tx.$queryRaw<
        Array<{ name: string; statement: string; generic_plans: bigint; custom_plans: bigint }>
      >`
        SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements`;
    });
    // Earlier tests may have left the queue's other statements prepared on this connection.
    expect(
      prepared.every(
        (each) =>
          /^prepared_[0-9a-f]{24}$/.test(each.name) && each.statement.startsWith('/* prepared */'),
      ),
    ).toBe(true);
    const inserts = prepared.filter((each) => each.statement.includes('INSERT INTO tasks'));
    expect(inserts).toHaveLength(1);
    // Seven runs (at least) of the one statement prepared.
    expect(
      Number(inserts[0]!.generic_plans) + Number(inserts[0]!.custom_plans),
    ).toBeGreaterThanOrEqual(7);
    expect(await db().task.count({ where: { id: { in: ids }, status: 'PENDING' } })).toBe(7);
  });

  it('can claim a task the moment it is enqueued: runAt is not rounded past now()', async () => {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const owner = await adminUserId();
    const type = `claim-at-once-${randomUUID()}`;
    // In a transaction now() stands still: a runAt rounded up past it (at milliseconds, one in
    // two) is not due yet. Ten transactions, each with its own now().
    const rolledBack = new Error('roll back');
    let claimed = 0;
    for (let i = 0; i < 10; i++) {
      await db()
        .$transaction(async (tx) => {
          await insertTask(tx, {
            type,
            priority: 'HIGH',
            payload: {},
            maxAttempts: 1,
            timeoutSeconds: 60,
            ownerId: owner,
          });
          claimed += (await claimTasks(tx, 'worker-at-once', [type], 60_000, 1)).length;
          throw rolledBack;
        })
        .catch((error: unknown) => {
          if (error !== rolledBack) throw error;
        });
    }
    expect(claimed).toBe(10);
  });

  it("keeps its prepared statements working when a migration adds a column or changes a column's precision (a rolling deploy)", async () => {
    const { claimTasks } = await import('../../src/queue/claim.js');
    const { finishTasks } = await import('../../src/queue/finish.js');
    const { finishAndClaimTasks } = await import('../../src/queue/finish-and-claim.js');
    const owner = await adminUserId();
    const task = {
      type: 'test_sleep',
      priority: 'LOW' as const,
      payload: { ms: 1 },
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId: owner,
      runAt: new Date(Date.now() - 1_000),
    };
    type Tx = Parameters<Parameters<ReturnType<typeof db>['$transaction']>[0]>[0];
    const turn = async (tx: Tx) => {
      await insertTask(tx, task);
      await insertTask(tx, task);
      const [claimed] = await claimTasks(tx, 'worker-deploy', ['test_sleep'], 60_000, 1);
      const outcome = {
        taskId: claimed!.id,
        status: 'COMPLETED' as const,
        result: null,
        message: 'completed',
      };
      const { finished, claimed: next } = await finishAndClaimTasks(
        tx,
        'worker-deploy',
        [outcome],
        { types: ['test_sleep'], leaseMs: 60_000, limit: 1 },
      );
      const done = await finishTasks(tx, 'worker-deploy', [{ ...outcome, taskId: next[0]!.id }]);
      return [...finished, ...done].map((row) => row.status);
    };
    // One connection throughout; the added column is rolled back with the transaction.
    const rolledBack = new Error('roll back');
    const statuses: string[][] = [];
    await db()
      .$transaction(async (tx) => {
        statuses.push(await turn(tx));
        await tx.$executeRaw`ALTER TABLE tasks ADD COLUMN added_by_a_later_release integer`;
        // Every column with a precision (a type modifier): the timestamps, which taskColumns casts.
        const modified = await tx.$queryRaw<Array<{ name: string; type: string }>>`
          SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
          WHERE attrelid = 'tasks'::regclass AND attnum > 0 AND NOT attisdropped AND atttypmod <> -1`;
        expect(modified.map((column) => column.type)).toEqual(
          modified.map(() => 'timestamp with time zone'),
        );
        for (const { name } of modified)
          await tx.$executeRawUnsafe(
            `ALTER TABLE tasks ALTER COLUMN "${name}" TYPE timestamptz(2)`,
          );
        statuses.push(await turn(tx));
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    expect(statuses).toEqual([
      ['COMPLETED', 'COMPLETED'],
      ['COMPLETED', 'COMPLETED'],
    ]);
  });
});

describe('worker metrics and probes', () => {
  it('counts attempts by type and outcome, with their durations and the busy slots', async () => {
    const { Registry } = await import('prom-client');
    const { createWorkerMetrics } = await import('../../src/workers/metrics.js');
    const registry = new Registry();
    // Only this test's attempts: what earlier tests left waiting goes.
    await db().task.deleteMany({ where: { status: 'PENDING' } });
    const pubsub = createInProcessPubSub('worker-metrics:');
    h.onCleanup(() => pubsub.close());
    await h.startWorker(pubsub, { metrics: createWorkerMetrics(registry) });
    const owner = await adminUserId();
    await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    await enqueueTestTask(pubsub, testFail, { failAttempts: 1 }, { ownerId: owner });
    await enqueueTestTask(
      pubsub,
      testFail,
      { failAttempts: 0, nonRetryable: true },
      { ownerId: owner },
    );
    const attempts = async () => {
      const { values } = await registry.getSingleMetric('task_attempts_total')!.get();
      return Object.fromEntries(
        values.map(({ labels, value }) => [`${labels.type} ${labels.outcome}`, value]),
      );
    };
    const expected = {
      'test_sleep completed': 1,
      'test_fail retry': 1,
      'test_fail completed': 1,
      'test_fail failed': 1,
    };
    await waitFor(
      async () => Object.values(await attempts()).reduce((sum, n) => sum + n, 0) >= 4 || undefined,
      'four attempts counted',
    );
    expect(await attempts()).toEqual(expected);
    const text = await registry.metrics();
    expect(text).toMatch(/^task_attempt_duration_seconds_count\{type="test_fail"\} 3$/m);
    expect(text).toMatch(/^task_attempt_duration_seconds_count\{type="test_sleep"\} 1$/m);
    expect(text).toMatch(/^task_worker_slots 4$/m);
    expect(text).toMatch(/^task_worker_slots_busy 0$/m);

    // A stop with no grace hands a running task back.
    const long = await enqueueTestTask(pubsub, testSleep, { ms: 60_000 }, { ownerId: owner });
    await waitFor(
      async () => /^task_worker_slots_busy 1$/m.test(await registry.metrics()) || undefined,
      'the long task running',
    );
    await h.stopWorkers();
    expect((await attempts())['test_sleep handed_back']).toBe(1);
    expect(await db().task.findUnique({ where: { id: long.id } })).toMatchObject({
      status: 'PENDING',
    });
  });

  it('serves /health, /ready and /metrics from a ROLE=worker process on WORKER_HTTP_PORT', async () => {
    const { spawnServiceProcess } = await import('../utils/processes.js');
    const worker = spawnServiceProcess(
      h,
      { ROLE: 'worker', WORKER_HTTP_PORT: '0', HOST: '127.0.0.1' },
      /"port":(\d+)[^\n]*worker probes listening/,
    );
    const port = /"port":(\d+)/.exec(await worker.ready)![1];
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    expect((await get('/health')).status).toBe(200);
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', stopping: false, database: true });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^task_worker_slots 4$/m);
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
    expect((await get('/graphql')).status).toBe(404);
    await worker.kill('SIGTERM');
    expect(worker.process.exitCode).toBe(0);
  });

  it("adds the worker's metrics to the API's /metrics with ROLE=all", async () => {
    const { spawnServiceProcess } = await import('../utils/processes.js');
    const service = spawnServiceProcess(
      h,
      { ROLE: 'all', PORT: '0', HOST: '127.0.0.1', ADMIN_API_KEY: h.adminKey },
      /"port":(\d+)[^\n]*API listening/,
    );
    const port = /"port":(\d+)/.exec(await service.ready)![1];
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^task_worker_slots 4$/m);
    expect(metrics).toMatch(/^graphql_sse_streams_open 0$/m);
    await service.kill('SIGTERM');
    expect(service.process.exitCode).toBe(0);
  });
});

// The task list's filters (status, type, priority, period, worker, agent), each read from the
// list's index; which worker ran a task, and each attempt's history (who, when, how it ended).
// Real PostgreSQL, a real worker.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { db } from '../../src/platform/db.js';
import { claimTasks } from '../../src/queue/claim.js';
import { handBackTasks } from '../../src/queue/hand-back-tasks.js';
import { reclaimExpiredLeases } from '../../src/queue/reclaim-expired.js';
import {
  taskPageQuery,
  type TaskPageFilter,
} from '../../src/services/tasks/sql/select-task-page.js';
import { errorCodes } from '../utils/graphql.js';
import { enqueueTestTask, testFail, testSleep } from '../utils/test-tasks.js';
import { adminUserId, useTasks } from './fixture.js';

const { h, taskUntil } = useTasks();

const LIST = `query($status: [TaskStatus!], $type: [String!], $priority: [TaskPriority!], $from: DateTime,
  $to: DateTime, $workerId: String, $agentId: ID, $first: Int, $after: String) {
  tasks(status: $status, type: $type, priority: $priority, from: $from, to: $to, workerId: $workerId,
        agentId: $agentId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id type status priority workerId } } } }`;
const HISTORY = `query($id: ID!) { task(id: $id) { id status attempts workerId
  attemptHistory { attempt workerId startedAt endedAt outcome error } } }`;

const globalId = (id: string) => Buffer.from(`Task:${id}`).toString('base64');

async function listIds(variables: Record<string, unknown>): Promise<string[]> {
  const response = await h.gql(LIST, { first: 100, ...variables });
  expect(response.errors).toBeUndefined();
  return response.data!.tasks.edges.map((edge: any) => edge.node.id).sort();
}

describe('tasks(...) filters', () => {
  it('filters by status, type, priority, period, worker and agent, alone and together, and pages', async () => {
    const app = await h.startApp();
    const owner = await adminUserId();
    const pubsub = app.pubsub;
    const sleepHigh = await enqueueTestTask(
      pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: owner, priority: 'HIGH' },
    );
    const failLow = await enqueueTestTask(
      pubsub,
      testFail,
      { failAttempts: 0 },
      { ownerId: owner, priority: 'LOW' },
    );
    // Apart by a few milliseconds on both sides: createdAt is PostgreSQL's clock rounded to the
    // millisecond (up as often as down), so a task made in the same millisecond as `between`
    // could fall on either side of it.
    await sleep(5);
    const between = new Date();
    await sleep(5);
    const sleepLow = await enqueueTestTask(
      pubsub,
      testSleep,
      { ms: 1 },
      { ownerId: owner, priority: 'LOW' },
    );
    const all = [sleepHigh, failLow, sleepLow].map((task) => globalId(task.id)).sort();
    // One of them run by a worker: COMPLETED, with its worker.
    const worker = await h.startWorker(app.pubsub);
    await taskUntil(globalId(sleepHigh.id), (task) => task.status === 'COMPLETED');
    await taskUntil(globalId(failLow.id), (task) => task.status === 'COMPLETED');
    await taskUntil(globalId(sleepLow.id), (task) => task.status === 'COMPLETED');
    await h.stopWorkers();
    const queued = await enqueueTestTask(pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    const everything = [...all, globalId(queued.id)].sort();

    expect(await listIds({})).toEqual(everything);
    expect(await listIds({ status: ['PENDING'] })).toEqual([globalId(queued.id)]);
    expect(await listIds({ type: ['test_fail'] })).toEqual([globalId(failLow.id)]);
    expect(await listIds({ priority: ['LOW'] })).toEqual(
      [globalId(failLow.id), globalId(sleepLow.id)].sort(),
    );
    expect(await listIds({ from: between.toISOString() })).toEqual(
      [globalId(sleepLow.id), globalId(queued.id)].sort(),
    );
    expect(await listIds({ to: between.toISOString() })).toEqual(
      [globalId(sleepHigh.id), globalId(failLow.id)].sort(),
    );
    expect(await listIds({ workerId: worker.id })).toEqual(all);
    expect(await listIds({ workerId: 'no-such-worker' })).toEqual([]);
    // A list is any of its values: an empty one matches no task; "" names no worker.
    for (const none of [{ status: [] }, { type: [] }, { priority: [] }, { workerId: '' }]) {
      expect(await listIds(none), JSON.stringify(none)).toEqual([]);
      const counted = await h.gql(LIST, { first: 1, ...none });
      expect(counted.data!.tasks.totalCount, JSON.stringify(none)).toBe(0);
    }
    expect(
      await listIds({ type: ['test_sleep'], priority: ['LOW'], status: ['COMPLETED'] }),
    ).toEqual([globalId(sleepLow.id)]);
    // The node shows its worker; a task no worker has claimed has none.
    const nodes = (await h.gql(LIST, { first: 100 })).data!.tasks.edges.map(
      (edge: any) => edge.node,
    );
    expect(nodes.find((node: any) => node.id === globalId(queued.id)).workerId).toBeNull();
    expect(nodes.find((node: any) => node.id === globalId(sleepHigh.id)).workerId).toBe(worker.id);
    // Paging with a filter: every matching task once, newest first.
    const first = (await h.gql(LIST, { type: ['test_sleep'], first: 2 })).data!.tasks;
    expect(first.totalCount).toBe(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (
      await h.gql(LIST, { type: ['test_sleep'], first: 2, after: first.pageInfo.endCursor })
    ).data!.tasks;
    const paged = [...first.edges, ...second.edges].map((edge: any) => edge.node.id);
    expect(paged).toEqual([globalId(queued.id), globalId(sleepLow.id), globalId(sleepHigh.id)]);
  });

  it('lists RUNNING tasks with the rest: newest first, counted and paged across both', async () => {
    const app = await h.startApp();
    const owner = await adminUserId();
    // Oldest first, a few milliseconds apart (createdAt is rounded to the millisecond); the
    // HIGH ones claimed by a worker that never ends them: RUNNING. Listed from `since` on (the
    // other tests' tasks stay).
    await sleep(5);
    const since = new Date().toISOString();
    await sleep(5);
    const made = [];
    for (const priority of ['LOW', 'HIGH', 'LOW', 'HIGH'] as const) {
      made.push(
        await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: owner, priority }),
      );
      await sleep(3);
    }
    const claimed = await claimTasks(db(), 'listed-worker', {
      types: ['test_sleep'],
      leaseMs: 60_000,
      limit: 2,
      startNow: 2,
    });
    const [oldest, runningOld, pending, runningNew] = made.map((task) => globalId(task.id));
    expect(claimed.map((task) => globalId(task.id)).sort()).toEqual(
      [runningOld, runningNew].sort(),
    );
    const newestFirst = [runningNew, pending, runningOld, oldest];
    const page = async (variables: Record<string, unknown>) => {
      const response = await h.gql(LIST, { from: since, ...variables });
      expect(response.errors).toBeUndefined();
      return response.data!.tasks;
    };
    const all = await page({ first: 100 });
    expect(all.totalCount).toBe(4);
    expect(all.edges.map((edge: any) => edge.node.id)).toEqual(newestFirst);
    // One at a time, across the two parts each step.
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const one = await page({ first: 1, after });
      expect(one.totalCount).toBe(4);
      paged.push(...one.edges.map((edge: any) => edge.node.id));
      if (!one.pageInfo.hasNextPage) break;
      after = one.pageInfo.endCursor;
    }
    expect(paged).toEqual(newestFirst);
    // With a relation selected (read for the page's tasks again), the same order.
    const related = await h.gql(
      `query($from: DateTime) { tasks(from: $from) { edges { node { id webhookDeliveries { error } } } } }`,
      { from: since },
    );
    expect(related.data!.tasks.edges.map((edge: any) => edge.node.id)).toEqual(newestFirst);
    const running = await page({ status: ['RUNNING'] });
    expect(running.edges.map((edge: any) => edge.node.id)).toEqual([runningNew, runningOld]);
    expect(running.totalCount).toBe(2);
    const both = await page({ status: ['RUNNING', 'PENDING'], priority: ['HIGH'] });
    expect(both.edges.map((edge: any) => edge.node.id)).toEqual([runningNew, runningOld]);
    expect((await page({ workerId: 'listed-worker' })).totalCount).toBe(2);
    expect((await page({ status: ['PENDING'] })).totalCount).toBe(2);
  });

  it('refuses a period whose start is not before its end, naming `from`', async () => {
    const at = new Date().toISOString();
    const response = await h.gql(LIST, { from: at, to: at });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.argument).toBe('from');
  });

  it('reads every filter from the list index, and the running tasks from theirs', async () => {
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    // The list's own statement, each filter an index condition of the list's index (checked
    // in the index, not on the rows after reading them), and its RUNNING part off the running
    // tasks' index, whatever the planner would pick on a table this small.
    const filters: Array<[string, Omit<TaskPageFilter, 'teamIds'>]> = [
      ['status', { status: ['FAILED'] }],
      ['type', { type: ['test_fail'] }],
      ['priority', { priority: ['LOW'] }],
      ['createdAt', { from: new Date(Date.now() - 3_600_000) }],
      ['workerId', { workerId: 'w' }],
      ['agentId', { agentId: '00000000-0000-0000-0000-000000000000' }],
    ];
    await db().$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      await tx.$executeRawUnsafe('SET LOCAL enable_bitmapscan = off');
      for (const [column, filter] of filters) {
        const query = taskPageQuery({ teamIds: [teamId], ...filter }, 21, {
          createdAt: new Date(),
          id: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
        });
        const [plan] = await tx.$queryRaw<Array<{ 'QUERY PLAN': Array<{ Plan: unknown }> }>>(
          Prisma.sql`EXPLAIN (FORMAT JSON) ${query}`,
        );
        const scans: Array<Record<string, string>> = [];
        const walk = (node: any) => {
          // Scans of the table (not of the union's result).
          if (node['Relation Name']) scans.push(node);
          for (const child of node.Plans ?? []) walk(child);
        };
        walk(plan!['QUERY PLAN'][0]!.Plan);
        const label = JSON.stringify(filter);
        // Either list index (by team, or by time with the team a condition in it) for all but
        // the RUNNING tasks; a status filter without RUNNING reads it alone.
        expect(scans[0]!['Index Name'], label).toMatch(/^tasks_(teamId_)?createdAt_id_idx$/);
        expect(
          scans.slice(1).map((scan) => scan['Index Name']),
          label,
        ).toEqual(
          column === 'status'
            ? []
            : // The running part: off the running tasks' index, or an agent's own.
              [column === 'agentId' ? 'tasks_agentId_createdAt_idx' : 'tasks_lockedUntil_idx'],
        );
        expect(scans[0]!['Index Cond'], label).toContain(column);
      }
    });
  });
});

describe('which worker ran a task, and its attempts', () => {
  it('lists each attempt with its worker, start, end, outcome and error', async () => {
    const app = await h.startApp();
    const owner = await adminUserId();
    const task = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 1 },
      { ownerId: owner },
    );
    const worker = await h.startWorker(app.pubsub, { backoffBaseMs: 10, backoffMaxMs: 20 });
    await taskUntil(globalId(task.id), (t) => t.status === 'COMPLETED');
    const { task: history } = (await h.gql(HISTORY, { id: globalId(task.id) })).data!;
    expect(history.attempts).toBe(2);
    expect(history.workerId).toBe(worker.id);
    expect(history.attemptHistory.map((a: any) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, worker.id, 'FAILED'],
      [2, worker.id, 'COMPLETED'],
    ]);
    expect(history.attemptHistory[0].error).toBe('transient failure on attempt 1');
    expect(history.attemptHistory[1].error).toBeNull();
    for (const attempt of history.attemptHistory) {
      expect(Date.parse(attempt.startedAt)).toBeLessThanOrEqual(Date.parse(attempt.endedAt));
    }
    expect(Date.parse(history.attemptHistory[0].endedAt)).toBeLessThanOrEqual(
      Date.parse(history.attemptHistory[1].startedAt),
    );
  });

  it("keeps a failed attempt's history through an operator's retry", async () => {
    const app = await h.startApp();
    const owner = await adminUserId();
    const task = await enqueueTestTask(
      app.pubsub,
      testFail,
      { failAttempts: 0, nonRetryable: true },
      { ownerId: owner },
    );
    const worker = await h.startWorker(app.pubsub);
    await taskUntil(globalId(task.id), (t) => t.status === 'FAILED');
    const first = (await h.gql(HISTORY, { id: globalId(task.id) })).data!.task;
    expect(
      first.attemptHistory.map((a: any) => [a.attempt, a.workerId, a.outcome, a.error]),
    ).toEqual([[1, worker.id, 'FAILED', 'this can never work']]);
    // A task that ended FAILED keeps its last attempt in its own columns, not in its log.
    const stored = () => db().task.findUniqueOrThrow({ where: { id: task.id } });
    expect((await stored()).attemptLog).toEqual([]);
    const retried = await h.gql('mutation($id: ID!) { retryTask(id: $id) { status attempts } }', {
      id: globalId(task.id),
    });
    expect(retried.errors).toBeUndefined();
    // The reset row no longer describes that attempt: the retry wrote it to the log first.
    expect((await stored()).attemptLog).toHaveLength(1);
    await taskUntil(globalId(task.id), (t) => t.status === 'FAILED' && t.attempts === 1);
    const second = (await h.gql(HISTORY, { id: globalId(task.id) })).data!.task;
    expect(second.attemptHistory.map((a: any) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, worker.id, 'FAILED'],
      [1, worker.id, 'FAILED'],
    ]);
    expect(second.attemptHistory[0].startedAt).toBe(first.attemptHistory[0].startedAt);
    expect(second.attemptHistory[0].endedAt).toBe(first.attemptHistory[0].endedAt);
    expect(Date.parse(second.attemptHistory[0].endedAt)).toBeLessThanOrEqual(
      Date.parse(second.attemptHistory[1].startedAt),
    );
  });

  it('records a lost lease and a shutdown hand-back as attempts of their own', async () => {
    const app = await h.startApp();
    const owner = await adminUserId();
    const lost = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    const claimed = await claimTasks(db(), 'vanished-worker', {
      types: ['test_sleep'],
      leaseMs: 1,
      limit: 1,
      startNow: 1,
    });
    expect(claimed.map((row) => row.id)).toEqual([lost.id]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await reclaimExpiredLeases(db(), 3);
    const handed = await enqueueTestTask(app.pubsub, testSleep, { ms: 1 }, { ownerId: owner });
    const [again] = await claimTasks(db(), 'stopping-worker', {
      types: ['test_sleep'],
      leaseMs: 60_000,
      limit: 2,
      startNow: 2,
    });
    expect(again).toBeDefined();
    // Both claimed by the stopping worker (the reclaimed one first: it keeps its place).
    const held = await db().task.findMany({ where: { lockedBy: 'stopping-worker' } });
    await handBackTasks(
      db(),
      'stopping-worker',
      held.map((row) => ({ taskId: row.id, attempt: row.attempts, recorded: true })),
    );
    const historyOf = async (id: string) => (await h.gql(HISTORY, { id: globalId(id) })).data!.task;
    const lostHistory = await historyOf(lost.id);
    expect(lostHistory.attemptHistory.map((a: any) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, 'vanished-worker', 'LEASE_LOST'],
      [2, 'stopping-worker', 'HANDED_BACK'],
    ]);
    expect(lostHistory.workerId).toBe('stopping-worker');
    const handedHistory = await historyOf(handed.id);
    expect(
      handedHistory.attemptHistory.map((a: any) => [a.attempt, a.workerId, a.outcome]),
    ).toEqual([[1, 'stopping-worker', 'HANDED_BACK']]);
    // A handed-back attempt does not count: the next run is attempt 1 again.
    expect(handedHistory.attempts).toBe(0);
  });
});

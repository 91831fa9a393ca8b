// A step's commit claims the dependents it makes runnable for its own worker (continuations):
// their tasks are never PENDING and run where their parents ran; their rows are written when
// the run outlives its first moments (RUNNING, under the worker's lease) or by the commit of
// its end (COMPLETED, with its one event), and meanwhile the step holds the lease; past the
// worker's room they are PENDING for any worker. Every step task the commit claims comes with
// what its run reads of its step. Rows and task logs, two real workers; the statements; the
// reconciler for a run lost before its row was written.
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { claimTasks } from '../../src/queue/claim.js';
import { commitSteps } from '../../src/services/workflows/sql/commit-steps.js';
import { writeUnwrittenSteps } from '../../src/services/workflows/sql/write-unwritten-steps.js';
import { reconcileWorkflows } from '../../src/services/workflows/reconcile.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { poolQueryable } from '../../src/platform/db.js';
import { NOT_CLAIMED_COLUMNS } from '../../src/queue/task-row.js';
import { CANCEL, step, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();

/** Each step's task log, by step key: [status, message] in sequence order, gap-free checked. */
async function taskLogs(workflowId: string) {
  const steps = await db().workflowStep.findMany({ where: { workflowId } });
  const logs: Record<string, Array<[string, string | null]>> = {};
  for (const s of steps) {
    const events = await db().taskEvent.findMany({
      where: { taskId: s.taskId! },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    logs[s.key] = events.map((e) => [e.status, e.message]);
  }
  return logs;
}

async function runPlan(steps: ReturnType<typeof step>[]) {
  const started = await w.startWith(steps);
  const done = await w.waitForStatus(started.id, ['SUCCEEDED', 'FAILED']);
  expect(done.status).toBe('SUCCEEDED');
  return rowId(started.id);
}

describe('continuations', () => {
  it('runs a chain on the worker that ran its first step, each dependent claimed in its parent’s commit', async () => {
    await w.startWorker();
    await w.startWorker();
    // 150 ms each: long enough that every start is recorded (its event names the worker).
    const workflowId = await runPlan([
      step('a', 'NOOP', { input: { waitMs: 150 } }),
      step('b', 'NOOP', { input: { waitMs: 150 }, dependsOn: ['a'] }),
      step('c', 'NOOP', { input: { waitMs: 150 }, dependsOn: ['b'] }),
    ]);
    const logs = await taskLogs(workflowId);
    // The first step was dispatched by the start: enqueued, then claimed.
    expect(logs.a!.map(([status]) => status)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    // Its dependents never waited in the queue: no PENDING version, no "enqueued" event.
    for (const key of ['b', 'c']) {
      expect(logs[key]!.map(([status]) => status)).toEqual(['RUNNING', 'COMPLETED']);
    }
    const workerOf = (key: string) =>
      /started by (.+)$/.exec(logs[key]![logs[key]!.length - 2]![1]!)![1];
    expect(workerOf('b')).toBe(workerOf('a'));
    expect(workerOf('c')).toBe(workerOf('a'));
  });

  it('leaves the dependents past its worker’s room PENDING for any worker', async () => {
    // One slot, and handlers slow enough that its local queue aims at no waiting task: the
    // root's commit has room for one continuation; the other three are enqueued.
    await w.startWorker({ concurrency: 1 });
    const children = ['b', 'c', 'd', 'e'].map((key) =>
      step(key, 'NOOP', { input: { waitMs: 150 }, dependsOn: ['a'] }),
    );
    const workflowId = await runPlan([step('a', 'NOOP', { input: { waitMs: 200 } }), ...children]);
    const logs = await taskLogs(workflowId);
    const enqueued = ['b', 'c', 'd', 'e'].filter((key) => logs[key]![0]![0] === 'PENDING');
    expect(enqueued).toHaveLength(3);
    for (const key of ['b', 'c', 'd', 'e']) expect(logs[key]!.at(-1)![0]).toBe('COMPLETED');
  });
});

describe("a step commit's claim", () => {
  it('brings the step of every step task it claims from the queue, and none for other types', async () => {
    // Two started workflows, no worker: each first step's task PENDING in the queue.
    const first = rowId(
      (await w.startWith([step('a', 'NOOP'), step('b', 'NOOP', { dependsOn: ['a'] })])).id,
    );
    const second = rowId((await w.startWith([step('x', 'NOOP')])).id);
    const { id: teamId } = await db().team.findUniqueOrThrow({ where: { slug: 'default' } });
    // Another type whose payload names a stepId that is no uuid: left alone, not cast.
    const other = await db().task.create({
      data: { type: 'test_other', payload: { stepId: 'not-a-uuid' }, teamId },
    });
    const types = ['workflow_step', 'test_other'];
    const claim = { types, leaseMs: 60_000, startNow: 8 };
    const committed = await inTransaction(async (tx) => {
      // The first workflow's step a, as a worker claims it; then its end, with the claim.
      const [claimedA] = await claimTasks(tx.client, 'test-worker', { ...claim, limit: 1 });
      const a = await db().workflowStep.findFirstOrThrow({
        where: { workflowId: first, key: 'a' },
      });
      expect(claimedA!.id).toBe(a.taskId);
      return commitSteps(
        tx.client,
        [first],
        [{ taskId: a.taskId!, result: {}, actual: null, attempt: 1, startedAt: new Date() }],
        { ...claim, workerId: 'test-worker', limit: 8, continuations: 8 },
      );
    });
    const byTask = new Map(committed.claimed.map((row) => [row.id, row.prefetched]));
    // b: a continuation; x: the queue's, read by the same statement; the other type: nothing.
    const x = await db().workflowStep.findFirstOrThrow({ where: { workflowId: second, key: 'x' } });
    const b = await db().workflowStep.findFirstOrThrow({ where: { workflowId: first, key: 'b' } });
    expect([...byTask.keys()].sort()).toEqual([b.taskId, x.taskId, other.id].sort());
    expect(byTask.get(x.taskId!)).toMatchObject({
      id: x.id,
      key: 'x',
      kind: 'NOOP',
      workflowId: second,
    });
    expect(byTask.get(b.taskId!)).toMatchObject({ id: b.id, key: 'b', workflowId: first });
    expect(byTask.get(other.id)).toBeNull();
    // Both parts of the claim leave out what no attempt reads (task-row.ts), as claimTasks does.
    for (const row of committed.claimed)
      for (const name of NOT_CLAIMED_COLUMNS) expect(row).toHaveProperty(name, null);
  });
});

describe('a continuation before its task row is written', () => {
  const claim = { types: ['workflow_step'], leaseMs: 60_000, startNow: 8 };
  const worker = 'test-worker';

  /** A started a → b workflow, a's task claimed and ended by a commit that claims b for `worker`. */
  async function continued() {
    const started = await w.startWith([step('a', 'NOOP'), step('b', 'NOOP', { dependsOn: ['a'] })]);
    const workflowId = rowId(started.id);
    const committed = await inTransaction(async (tx) => {
      const [a] = await claimTasks(tx.client, worker, { ...claim, limit: 1 });
      return commitSteps(
        tx.client,
        [workflowId],
        [{ taskId: a!.id, result: {}, actual: null, attempt: 1, startedAt: new Date() }],
        { ...claim, workerId: worker, limit: 8, continuations: 8 },
      );
    });
    const b = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'b' } });
    const [task] = committed.claimed;
    expect(committed.claimed).toHaveLength(1);
    expect(task).toMatchObject({ id: b.taskId, status: 'RUNNING', attempts: 1, unwritten: true });
    // No row yet; the step holds the lease the commit set.
    expect(await db().task.findUnique({ where: { id: b.taskId! } })).toBeNull();
    expect(b.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    return { apiId: started.id, workflowId, b, task: task! };
  }

  /** b's end, as its worker's commit records it when the row was never written. */
  const endB = (workflowId: string, taskId: string, startedAt: Date) =>
    inTransaction((tx) =>
      commitSteps(
        tx.client,
        [workflowId],
        [
          {
            taskId,
            result: { done: true },
            actual: null,
            attempt: 1,
            startedAt,
            unwritten: true,
          },
        ],
        { ...claim, workerId: worker, limit: 0, continuations: 0 },
      ),
    );

  it('ends on its step alone, with no task row, and only once', async () => {
    const { apiId, workflowId, b } = await continued();
    const startedAt = new Date(Date.now() - 5);
    const ended = await endB(workflowId, b.taskId!, startedAt);
    expect(ended.rowless.ids).toEqual([b.taskId]);
    // The step holds the run: its attempt, start, end and result. No task row nor event.
    const after = await db().workflowStep.findUniqueOrThrow({ where: { id: b.id } });
    expect(after).toMatchObject({
      status: 'SUCCEEDED',
      leaseUntil: null,
      taskId: b.taskId,
      attempts: 1,
      result: { done: true },
    });
    expect(after.startedAt!.getTime()).toBe(startedAt.getTime());
    expect(after.completedAt!.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(await db().task.findUnique({ where: { id: b.taskId! } })).toBeNull();
    expect(await db().taskEvent.count({ where: { taskId: b.taskId! } })).toBe(0);
    const workflow = await db().workflow.findUniqueOrThrow({ where: { id: workflowId } });
    expect(workflow.status).toBe('SUCCEEDED');
    // Its log reads as any step's: ready, started, then succeeded.
    const events = await db().workflowEvent.findMany({
      where: { workflowId, stepKey: 'b' },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((e) => e.status)).toEqual(['READY', 'RUNNING', 'SUCCEEDED']);
    // Read through the API: the step, with no task.
    const read = await w.gqlOk(
      `query($id: ID!) { workflow(id: $id) { steps { key status attempts task { id } } } }`,
      { id: apiId },
    );
    expect(read.workflow.steps.find((s: { key: string }) => s.key === 'b')).toEqual({
      key: 'b',
      status: 'SUCCEEDED',
      attempts: 1,
      task: null,
    });
    // The same end again (a retried turn whose first try committed): the step is no longer
    // live on it, so nothing is recorded and nothing fails.
    expect((await endB(workflowId, b.taskId!, startedAt)).rowless.ids).toEqual([]);
    expect(
      await db().workflowEvent.count({ where: { workflowId, stepKey: 'b', status: 'SUCCEEDED' } }),
    ).toBe(1);
  });

  it('is written as claimed before anything else of its run, once, and not for a step no longer live', async () => {
    const { workflowId, b, task } = await continued();
    const lease = { workerId: worker, leaseMs: 60_000 };
    await writeUnwrittenSteps(poolQueryable(), [task], lease);
    await writeUnwrittenSteps(poolQueryable(), [task], lease);
    const row = await db().task.findUniqueOrThrow({ where: { id: b.taskId! } });
    expect(row).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      lockedBy: worker,
      workerId: worker,
      lastSequence: 0,
      payload: { workflowId, stepId: b.id },
    });
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await db().taskEvent.count({ where: { taskId: b.taskId! } })).toBe(0);
    // Another continuation, its workflow cancelled before its row was written: none.
    const other = await continued();
    await w.gqlOk(CANCEL, { id: other.apiId });
    await writeUnwrittenSteps(poolQueryable(), [other.task], lease);
    expect(await db().task.findUnique({ where: { id: other.b.taskId! } })).toBeNull();
  });

  it('is left to its worker while the lease holds, runs again once it is over, and a step that keeps losing its runs fails', async () => {
    const { workflowId, b } = await continued();
    const deps = { pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS };
    expect((await reconcileWorkflows(deps, 0, 2)).requeued).toBe(0);
    expect(await db().workflowStep.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({
      status: 'READY',
      taskId: b.taskId,
      lostRuns: 0,
    });
    // Its worker died: the lease runs out with no row written.
    const expire = () =>
      db().$executeRaw`UPDATE workflow_steps SET "leaseUntil" = now() - interval '1 second'
                       WHERE id = ${b.id}::uuid`;
    await expire();
    expect((await reconcileWorkflows(deps, 0, 2)).requeued).toBe(1);
    const again = await db().workflowStep.findUniqueOrThrow({ where: { id: b.id } });
    // Run again: a new task for any worker (the stalled workflow's dispatch, same pass).
    expect(again).toMatchObject({ status: 'READY', lostRuns: 1 });
    expect(again.taskId).not.toBe(b.taskId);
    const requeued = await db().task.findUniqueOrThrow({ where: { id: again.taskId! } });
    expect(requeued.status).toBe('PENDING');
    // Lost again, as a continuation: past the budget (2) its task is written DEAD.
    const lostTask = crypto.randomUUID();
    await db().$executeRaw`DELETE FROM tasks WHERE id = ${again.taskId}::uuid`;
    await db().$executeRaw`UPDATE workflow_steps SET "taskId" = ${lostTask}::uuid
                           WHERE id = ${b.id}::uuid`;
    await expire();
    expect((await reconcileWorkflows(deps, 0, 2)).requeued).toBe(0);
    const dead = await db().task.findUniqueOrThrow({ where: { id: lostTask } });
    expect(dead).toMatchObject({ status: 'DEAD', leaseLosses: 2 });
    expect(dead.error).toMatch(/worker was lost 2 times/);
    // The next pass settles it by its policy (FAIL_WORKFLOW): the step and the workflow fail.
    expect((await reconcileWorkflows(deps, 0, 2)).settled).toBe(1);
    expect(await db().workflowStep.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({
      status: 'FAILED',
      lostRuns: 2,
    });
    expect((await db().workflow.findUniqueOrThrow({ where: { id: workflowId } })).status).toBe(
      'FAILED',
    );
  });
});

// A step's commit claims the dependents it makes runnable for its own worker (continuations):
// their tasks are written claimed, never PENDING, and run where their parents ran; past the
// worker's room they are PENDING for any worker. Every step task the commit claims comes with
// what its run reads of its step. Rows and task logs, two real workers; the commit statement.
import { describe, expect, it } from 'vitest';
import { db, inTransaction } from '../../src/platform/db.js';
import { claimTasks } from '../../src/queue/claim.js';
import { commitSteps } from '../../src/services/workflows/sql/commit-steps.js';
import { NOT_CLAIMED_COLUMNS } from '../../src/queue/task-row.js';
import { step, useWorkflows } from './fixture.js';
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

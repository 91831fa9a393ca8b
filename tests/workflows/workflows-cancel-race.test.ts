// cancelWorkflow racing a worker's claim: a step's task claimed just before its
// workflow was cancelled finds the step no longer its to run; it ends CANCELLED, as the
// cancellation asked, not FAILED (a failure it never had). And racing a worker's write of the
// task (its start recorded, its lease renewed): the cancellation is asked again once that
// write commits, so the task stops without waiting for the reconciler. And an edit of the plan
// that a cancellation overtook is refused for what the workflow is now: finished.
import { describe, expect, it } from 'vitest';
import { db, inTransaction, type Queryable } from '../../src/platform/db.js';
import type { PushedCancellation } from '../../src/platform/pubsub.js';
import { endWorkflow } from '../../src/services/workflows/sql/end-workflow.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { lockWorkflows } from '../../src/services/workflows/sql/lock-workflows.js';
import { CANCEL, START, step, UPDATE, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();

async function planned(goal: string) {
  return w.planWith([step('long', 'NOOP', { input: { waitMs: 60_000 } })], {
    goal,
    planner: 'LOCAL',
  });
}

const stepTasksOf = (workflowId: string) =>
  db().task.findMany({
    where: { type: 'workflow_step', payload: { path: ['workflowId'], equals: workflowId } },
    select: { id: true, status: true, error: true },
  });

const ended = (workflowId: string) =>
  w.waitFor(async () => {
    const tasks = await stepTasksOf(workflowId);
    return tasks.every((t) => !['PENDING', 'RUNNING'].includes(t.status)) ? tasks : undefined;
  }, 'the step tasks ended');

/** Until a statement of this test's database waits on a lock (the row a test holds). */
const waitingForLock = (what: string) =>
  w.waitFor(async () => {
    const [waiting] = await db().$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    return waiting!.n > 0 || undefined;
  }, what);

/** The workflow cancelled as cancelWorkflow's statement does, in the test's transaction. */
const cancelIn = (client: Queryable, workflowId: string) =>
  endWorkflow(client, workflowId, {
    from: ['PLANNED', 'RUNNING'],
    to: 'CANCELLED',
    message: 'cancelled by the test',
    error: null,
  });

describe('cancelWorkflow racing a claim', () => {
  it('ends a claimed task CANCELLED when its workflow was cancelled before the step started', async () => {
    const plan = await planned('cancel between claim and start');
    const id = rowId(plan.id);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    // The workflow's row held: the claim commits without starting the step, and the run's
    // start waits for the row; the cancellation (cancelWorkflow's statement) commits first.
    await inTransaction(
      async (tx) => {
        await lockWorkflows(tx.client, [id]);
        await w.startWorker();
        await waitingForLock('the step start waiting for the workflow');
        const [task] = await stepTasksOf(id);
        expect(task!.status).toBe('RUNNING');
        await cancelIn(tx.client, id);
      },
      { timeout: 30_000 },
    );
    const tasks = await ended(id);
    expect(tasks.map((t) => t.status)).toEqual(['CANCELLED']);
    const workflow = await w.workflowOf(plan.id);
    expect(workflow.status).toBe('CANCELLED');
    expect(workflow.steps.map((s: any) => s.status)).toEqual(['CANCELLED']);
  });

  it('ends every step task CANCELLED when the cancel follows the start by 0-6 ms', async () => {
    await w.startWorker();
    for (let round = 0; round < 7; round++) {
      const plan = await planned(`cancel race ${round}`);
      await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
      await new Promise((resolve) => setTimeout(resolve, round));
      expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
      const tasks = await ended(rowId(plan.id));
      expect(tasks.map((t) => t.status)).toEqual(tasks.map(() => 'CANCELLED'));
    }
  });

  it('stops a running step task whose row another transaction held when the workflow was cancelled', async () => {
    // No reconciler pass in this test: only the cancellation itself can stop the task.
    await w.startWorker({ workflows: { ...DEFAULT_WORKFLOW_SETTINGS, reconcileMs: 3_600_000 } });
    const plan = await planned('cancel meets a held task row');
    const id = parseGlobalId('Workflow', plan.id)!;
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    // Running, its start recorded (its RUNNING event written).
    const [task] = await w.waitFor(async () => {
      const tasks = await stepTasksOf(id);
      const started = await db().taskEvent.count({
        where: { taskId: tasks[0]?.id ?? '', status: 'RUNNING' },
      });
      return tasks[0]?.status === 'RUNNING' && started ? tasks : undefined;
    }, 'the step task running');
    await inTransaction(async (tx) => {
      // Held as a worker's turn holds it while it writes the task's start or progress.
      await tx.client.$queryRaw`SELECT id FROM tasks WHERE id = ${task!.id}::uuid FOR UPDATE`;
      expect((await w.gqlOk(CANCEL, { id: plan.id })).cancelWorkflow.status).toBe('CANCELLED');
      // The cancel statement skipped the held row rather than wait for it.
      const row = await db().task.findUniqueOrThrow({ where: { id: task!.id } });
      expect([row.status, row.cancellationRequested]).toEqual(['RUNNING', false]);
    });
    const tasks = await ended(id);
    expect(tasks.map((t) => [t.status, t.error])).toEqual([
      ['CANCELLED', 'cancelled while running'],
    ]);
    const events = await db().taskEvent.findMany({
      where: { taskId: task!.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => [e.status, e.message]).slice(1)).toEqual([
      ['RUNNING', expect.stringMatching(/^attempt 1 started by /)],
      ['RUNNING', 'cancellation requested'],
      ['CANCELLED', 'cancelled while running'],
    ]);
  });

  it("never starts the steps waiting in a worker's local queue when their workflow is cancelled", async () => {
    // Four slots, 32 steps: four run (every slot busy for a minute), the worker's claim holds
    // more waiting behind them. The cancellation's pushes stop the running four; the slots they
    // free must not start a waiting one before its own push is read.
    const keys = Array.from({ length: 32 }, (_, i) => `s${i}`);
    const plan = await w.planWith(
      keys.map((key) => step(key, 'NOOP', { input: { waitMs: 60_000 } })),
      { maxParallelSteps: 32 },
    );
    await w.startWorker({ concurrency: 4, batchSize: 32, heartbeatMs: 20_000, leaseMs: 60_000 });
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const id = rowId(plan.id);
    const state = async () => ({
      steps: await db().workflowStep.findMany({ where: { workflowId: id } }),
      tasks: await stepTasksOf(id),
    });
    const before = await w.waitFor(
      async () => {
        const now = await state();
        const running = now.steps.filter((s) => s.status === 'RUNNING').length === 4;
        const waiting = now.tasks.filter((t) => t.status === 'RUNNING').length > 4;
        return running && waiting ? now : undefined;
      },
      'four steps running and more claimed behind them',
      15_000,
      async () => JSON.stringify(await state()),
    );
    const ran = new Set(before.steps.filter((s) => s.status === 'RUNNING').map((s) => s.taskId));
    const claimed = before.tasks.filter((t) => t.status === 'RUNNING').map((t) => t.id);
    const pushes = w.app.pubsub.subscribe('taskCancel', 'workers');
    await pushes.ready;
    await w.gqlOk(CANCEL, { id: plan.id });
    // Told in one push, read in one pass: a slot freed by one's stop cannot start another
    // before that other's own push is read (as happened with a push per task, under load).
    const pushed = (await pushes.next()).value as { tasks: PushedCancellation[] };
    expect(pushed.tasks.map((t) => t.taskId).sort()).toEqual(expect.arrayContaining(claimed));
    await pushes.return?.();
    const tasks = await ended(id);
    expect(tasks.map((t) => t.status)).toEqual(Array(32).fill('CANCELLED'));
    // Cancelled while queued (no error: its log says so) or while waiting in the worker's
    // local queue: none of them ran.
    const unrun = tasks.filter((t) => !ran.has(t.id));
    expect(unrun.filter((t) => t.error !== null && t.error !== 'cancelled before it ran')).toEqual(
      [],
    );
    expect(tasks.filter((t) => ran.has(t.id)).map((t) => t.error)).toEqual(
      Array(4).fill('cancelled while running'),
    );
  });

  it('refuses an edit a cancellation overtook as WORKFLOW_FINISHED, not a stale version', async () => {
    const plan = await planned('edit meets a cancel');
    const id = rowId(plan.id);
    const edit = { id: plan.id, v: plan.planVersion, steps: [step('other', 'NOOP')] };
    let editing: ReturnType<typeof w.h.gql> | undefined;
    await inTransaction(
      async (tx) => {
        // The edit passes its checks, then waits for the row this cancellation holds.
        await lockWorkflows(tx.client, [id]);
        editing = w.h.gql(UPDATE, edit, w.keys.alice!);
        await waitingForLock('the edit waiting for the workflow');
        await cancelIn(tx.client, id);
      },
      { timeout: 30_000 },
    );
    // Answered once the cancellation committed.
    const answer = await editing!;
    expect(answer.errors?.map((e: any) => [e.extensions.code, e.extensions.reason])).toEqual([
      ['CONFLICT', 'WORKFLOW_FINISHED'],
    ]);
    expect((await w.workflowOf(plan.id)).planVersion).toBe(plan.planVersion);
  });
});

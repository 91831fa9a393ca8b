// Nothing acknowledged is lost: a worker SIGKILLed mid-step loses no step and
// commits none twice (its lease expires, another worker reruns the attempt); a stale attempt's
// end is refused by the fence; and the reconciler repairs what a killed process can leave
// between commits (a dead letter whose after-finish step never ran, a workflow whose steps all
// ended, a READY step whose task is gone).
import { beforeEach, describe, expect, it } from 'vitest';
import { db, inTransaction, type Transaction } from '../../src/platform/db.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import { reconcileWorkflows } from '../../src/services/workflows/reconcile.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { settleStepTasks } from '../../src/services/workflows/settle.js';
import { stepProgress, type StartedStep } from '../../src/services/workflows/step-run.js';
import { endWorkflow } from '../../src/services/workflows/sql/end-workflow.js';
import { lockWorkflows } from '../../src/services/workflows/sql/lock-workflows.js';
import { deleteUnstartedSteps } from '../../src/services/workflows/sql/delete-unstarted.js';
import { insertSteps } from '../../src/services/workflows/sql/insert-steps.js';
import { spawnWorkerProcess } from '../utils/processes.js';
import { lockTableForWrites } from '../utils/row-lock.js';
import { CANCEL, START, step, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();
const deps = () => ({ pubsub: w.app.pubsub, settings: DEFAULT_WORKFLOW_SETTINGS });

async function succeededEvents(workflowId: string) {
  const events = await db().workflowEvent.findMany({
    where: { workflowId: rowId(workflowId), kind: 'STEP', status: 'SUCCEEDED' },
  });
  return events.map((event) => event.stepKey).sort();
}

/** Until a session of this test's database waits for a row lock (`what` is behind one). */
const waitingForALock = (what: string) =>
  w.waitFor(async () => (await waitingOnALock('')) > 0, `${what} waiting for the workflow's lock`);

/** Statements of this test's database waiting on a lock whose text holds `marker` ('': any). */
async function waitingOnALock(marker: string): Promise<number> {
  const [row] = await db().$queryRaw<[{ waiting: number }]>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND strpos(query, ${marker}) > 0`;
  return row.waiting;
}

/** Step start records (markStepsRunning) waiting on a lock. */
const startRecordsWaiting = () => waitingOnALock('AS i("stepId", "taskId", attempt');
/** Worker step commits (commit-steps.ts) waiting on a lock. */
const stepCommitsWaiting = () => waitingOnALock("Each ended task's step, found from the task");

/** A step's task ended well, as its worker's commit hands it to settleStepTasks. */
const completed = (step: { id: string; workflowId: string; taskId: string | null }) => {
  const now = new Date();
  return {
    id: step.taskId!,
    status: 'COMPLETED' as const,
    result: {},
    error: null,
    payload: { workflowId: step.workflowId, stepId: step.id },
    startedAt: now,
    completedAt: now,
  };
};

/**
 * A transaction that does `work`, then stays open until `commit()`: `held` resolves once the
 * work is done (its locks taken), `committed` when it has committed.
 */
function heldTransaction(work: (tx: Transaction) => Promise<unknown>) {
  let commit!: () => void;
  const released = new Promise<void>((resolve) => (commit = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const committed = inTransaction(async (tx) => {
    await work(tx);
    holding();
    await released;
  });
  return { held, commit, committed };
}

describe('recovery', () => {
  // Each case starts with the queue to itself. Several leave a workflow RUNNING with step tasks
  // queued (they drive its commits by hand, no worker runs it to its end), and a later case's
  // workers would claim those too: one whose table is locked then had its worker's turn, which
  // ends such a task, hold its own task's row as well (a hooked turn writes every task change
  // it has, that one's start too, in its transaction), and no worker could take it back.
  beforeEach(async () => {
    await db().task.deleteMany({ where: { status: { in: ['PENDING', 'RUNNING'] } } });
    await db().workflow.updateMany({ where: { status: 'RUNNING' }, data: { status: 'CANCELLED' } });
  });

  it('finishes a workflow whose worker was SIGKILLed mid-step: no step lost, none committed twice', async () => {
    const doomed = spawnWorkerProcess(w.h, { redisUrl: w.h.redisUrl });
    await doomed.ready;
    const plan = await w.planWith([
      step('first', 'NOOP'),
      step('hold', 'REFRESH_COVERAGE', { agentId: w.agents[1]!.id, dependsOn: ['first'] }),
      step('wait', 'NOOP', { input: { waitMs: 2_000 }, dependsOn: ['first'] }),
      step('last', 'NOOP', { dependsOn: ['hold', 'wait'] }),
    ]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    await w.waitFor(
      async () =>
        (await w.workflowOf(plan.id)).steps.find((s: any) => s.key === 'wait').status === 'RUNNING',
      'the wait step running',
    );
    await doomed.kill('SIGKILL');
    await w.startWorker();
    const done = await w.waitForStatus(plan.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(await succeededEvents(plan.id)).toEqual(['first', 'hold', 'last', 'wait']);
    expect(done.steps.find((s: any) => s.key === 'wait').attempts).toBe(2);
    // The refresh's history entry is keyed by its task: one, whoever ran it.
    const hold = await db().workflowStep.findFirstOrThrow({
      where: { key: 'hold', workflowId: rowId(plan.id) },
    });
    expect(await db().coverageHistory.count({ where: { taskId: hold.taskId! } })).toBe(1);
  });

  it("refuses a stale attempt's end: the step stays with the attempt that holds the task", async () => {
    const plan = await w.planWith([step('only', 'NOOP', { input: { waitMs: 1_500 } })]);
    await w.startWorker();
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const running = await w.waitFor(async () => {
      const row = await db().workflowStep.findFirst({
        where: { workflowId: rowId(plan.id), status: 'RUNNING' },
      });
      return row?.taskId ? row : undefined;
    }, 'the step running');
    const task = await db().task.findUniqueOrThrow({ where: { id: running.taskId! } });
    // The same worker, an earlier attempt of the task: the fence refuses it.
    const stale = await writeTaskChanges(
      db(),
      task.lockedBy!,
      [
        {
          kind: 'COMPLETED',
          taskId: task.id,
          attempt: task.attempts - 1,
          result: { stale: true },
          message: 'stale',
        },
      ],
      { baseMs: 20, maxMs: 200, maxLeaseLosses: 3, maxPostponements: 3 },
    );
    expect(stale).toEqual([]);
    const done = await w.waitForStatus(plan.id, ['SUCCEEDED', 'FAILED']);
    expect(done.steps[0].result).toEqual({ tokens: 0 });
    expect(await succeededEvents(plan.id)).toEqual(['only']);
  });

  it('settles a step whose task died (DEAD) without its after-finish step', async () => {
    const plan = await w.planWith([
      step('a', 'NOOP', { input: { waitMs: 60_000 } }),
      step('b', 'NOOP', { dependsOn: ['a'] }),
    ]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const a = await db().workflowStep.findFirstOrThrow({
      where: { workflowId: rowId(plan.id), key: 'a' },
    });
    // What a crash between the dead letter's commit and its after-finish step leaves.
    await db().task.update({
      where: { id: a.taskId! },
      data: { status: 'DEAD', error: 'attempts used up', completedAt: new Date() },
    });
    expect((await reconcileWorkflows(deps(), 0)).settled).toBe(1);
    const failed = await w.workflowOf(plan.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.steps.map((s: any) => s.status)).toEqual(['FAILED', 'CANCELLED']);
  });

  it('ends a running workflow whose steps have all ended, and dispatches a READY step whose task is gone', async () => {
    const plan = await w.planWith([step('x', 'NOOP'), step('y', 'NOOP', { dependsOn: ['x'] })]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const x = await db().workflowStep.findFirstOrThrow({
      where: { workflowId: rowId(plan.id), key: 'x' },
    });
    await db().task.delete({ where: { id: x.taskId! } });
    expect((await db().workflowStep.findUniqueOrThrow({ where: { id: x.id } })).taskId).toBeNull();
    await db().workflow.update({ where: { id: rowId(plan.id) }, data: { updatedAt: new Date(0) } });
    expect((await reconcileWorkflows(deps(), 0)).advanced).toBe(1);
    expect(
      (await db().workflowStep.findUniqueOrThrow({ where: { id: x.id } })).taskId,
    ).not.toBeNull();
    await w.startWorker();
    await w.waitForStatus(plan.id, ['SUCCEEDED']);
    // A completion that never landed: the steps all ended, the workflow still RUNNING.
    await db().workflow.update({
      where: { id: rowId(plan.id) },
      data: { status: 'RUNNING', completedAt: null, updatedAt: new Date(0) },
    });
    await reconcileWorkflows(deps(), 0);
    expect((await w.workflowOf(plan.id)).status).toBe('SUCCEEDED');
  });

  it("a step's commit that waited for its workflow behind a replan's new tail makes that tail's dependent ready", async () => {
    const plan = await w.planWith([
      step('ok', 'NOOP'),
      step('bad', 'NOOP'),
      step('write', 'NOOP', { dependsOn: ['ok', 'bad'] }),
    ]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const workflowId = rowId(plan.id);
    const ok = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'ok' } });
    // `bad` failed under REPLAN (it ends SKIPPED, its dependents still waiting on it).
    await db().workflowStep.updateMany({
      where: { workflowId, key: 'bad' },
      data: { status: 'SKIPPED' },
    });
    // The replan's swap: the workflow locked, `write` replaced by one waiting on `ok` alone.
    const swap = heldTransaction(async (tx) => {
      await lockWorkflows(tx.client, [workflowId]);
      await deleteUnstartedSteps(tx.client, workflowId);
      const tail = { key: 'write', kind: 'NOOP', agentId: null, input: {}, dependsOn: ['ok'] };
      await insertSteps(
        tx.client,
        workflowId,
        [{ ...tail, failurePolicy: null, complexity: 1, estimate: null }].map((each) => ({
          ...each,
          status: 'PENDING',
          waitingOn: 1,
          position: 3,
        })),
      );
    });
    await swap.held;
    const settled = inTransaction((tx) => settleStepTasks(tx, [completed(ok)], deps()));
    await waitingForALock("the step's commit");
    swap.commit();
    await swap.committed;
    await settled;
    const write = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'write' } });
    expect(write).toMatchObject({ status: 'READY', waitingOn: 0, dependsOn: ['ok'] });
    expect(write.taskId).not.toBeNull();
  });

  it("cancelWorkflow behind a step's commit keeps the step it finished and cancels the task it made", async () => {
    const plan = await w.planWith([step('a', 'NOOP'), step('b', 'NOOP', { dependsOn: ['a'] })]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const workflowId = rowId(plan.id);
    const a = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'a' } });
    // A worker's commit: `a` succeeded, `b` READY with its new task, not yet committed.
    const stepCommit = heldTransaction((tx) => settleStepTasks(tx, [completed(a)], deps()));
    await stepCommit.held;
    const cancelled = w.gqlOk(CANCEL, { id: plan.id });
    await waitingForALock('cancelWorkflow');
    stepCommit.commit();
    await stepCommit.committed;
    const { cancelWorkflow } = await cancelled;
    expect(cancelWorkflow.status).toBe('CANCELLED');
    expect(Object.fromEntries(cancelWorkflow.steps.map((s: any) => [s.key, s.status]))).toEqual({
      a: 'SUCCEEDED',
      b: 'CANCELLED',
    });
    const b = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'b' } });
    expect((await db().task.findUniqueOrThrow({ where: { id: b.taskId! } })).status).toBe(
      'CANCELLED',
    );
  });

  it('writes no start of a run that lived on past its lease after the next attempt took over', async () => {
    const plan = await w.planWith([step('s', 'NOOP', { input: { waitMs: 60_000 } })]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    // Every write to the steps waits: the frozen worker's start record is sent, then the next
    // attempt's, and both run once the lock goes (before, the stale one logged "attempt 1
    // started" beside attempt 2's, and set the step's attempts back to 1).
    const steps = await lockTableForWrites(w.h, 'workflow_steps');
    const frozen = spawnWorkerProcess(w.h, { redisUrl: w.h.redisUrl });
    const workers = [frozen];
    try {
      await frozen.ready;
      await w.waitFor(async () => (await startRecordsWaiting()) === 1, 'the first start record');
      frozen.process.kill('SIGSTOP');
      // Its lease (2 s) expires; another worker takes the task back and runs it again.
      const other = spawnWorkerProcess(w.h, { redisUrl: w.h.redisUrl });
      workers.push(other);
      const otherId = (await other.ready).replace(/^ready /, '');
      const taskId = rowId((await w.workflowOf(plan.id)).steps[0].task.id);
      const task = await w.waitFor(
        async () => {
          const row = await db().task.findUniqueOrThrow({ where: { id: taskId } });
          const ready = row.lockedBy === otherId && (await startRecordsWaiting()) === 2;
          return ready ? row : undefined;
        },
        'the next run of the task and its start record',
        15_000,
        async () => {
          const row = await db().task.findUniqueOrThrow({ where: { id: taskId } });
          const activity = await db().$queryRaw<Array<Record<string, unknown>>>`
          SELECT pid, state, wait_event_type, wait_event, left(query, 160) AS query
          FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle'`;
          return JSON.stringify({ otherId, task: row, activity });
        },
      );
      await steps.release();
      await w.waitFor(
        async () => (await w.workflowOf(plan.id)).steps[0].status === 'RUNNING',
        'the step running',
      );
      const starts = await db().workflowEvent.findMany({
        where: { workflowId: rowId(plan.id), kind: 'STEP', status: 'RUNNING' },
        orderBy: { sequence: 'asc' },
      });
      // Attempt 2, or 1 again when the frozen run's start was never recorded (reclaim-expired.ts).
      expect(starts.map((event) => event.message)).toEqual([`attempt ${task.attempts} started`]);
      expect((await w.workflowOf(plan.id)).steps[0].attempts).toBe(task.attempts);
    } finally {
      await steps.release();
      for (const worker of workers) await worker.kill('SIGKILL');
    }
  });

  it("takes back the tasks a frozen worker's open turn held, once PostgreSQL ends its idle transaction", async () => {
    const plan = await w.planWith([step('quick', 'NOOP')]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const taskId = rowId((await w.workflowOf(plan.id)).steps[0].task.id);
    // The step's commit waits on the locked table inside the worker's turn, which has written
    // the task's end (its row locked until that transaction ends).
    const steps = await lockTableForWrites(w.h, 'workflow_steps');
    const frozen = spawnWorkerProcess(w.h, {
      redisUrl: w.h.redisUrl,
      idleInTransactionTimeoutMs: 1_000,
    });
    const workers = [frozen];
    try {
      await frozen.ready;
      await w.waitFor(async () => (await stepCommitsWaiting()) === 1, "the step's commit waiting");
      // Frozen mid-turn; the commit's statement then runs to its end, and its transaction waits
      // idle for a next statement that never comes.
      frozen.process.kill('SIGSTOP');
      await steps.release();
      // The lease (2 s) runs out; another worker takes the task back once the row is free.
      const other = spawnWorkerProcess(w.h, { redisUrl: w.h.redisUrl });
      workers.push(other);
      const otherId = (await other.ready).replace(/^ready /, '');
      await w.waitForStatus(plan.id, ['SUCCEEDED'], undefined, 15_000);
      const task = await db().task.findUniqueOrThrow({ where: { id: taskId } });
      expect(task).toMatchObject({ status: 'COMPLETED', workerId: otherId });
      // Nothing of the frozen turn landed: the step's end committed once, by the other worker.
      expect(await succeededEvents(plan.id)).toEqual(['quick']);
    } finally {
      await steps.release();
      for (const worker of workers) await worker.kill('SIGKILL');
    }
  });

  it("a step's progress written behind the commit that cancelled its workflow is not logged after the end", async () => {
    const plan = await w.planWith([step('p', 'NOOP')]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const workflowId = rowId(plan.id);
    const p = await db().workflowStep.update({
      where: { workflowId_key: { workflowId, key: 'p' } },
      data: { status: 'RUNNING' },
    });
    // Its task running at attempt 1 under a worker's lease: only the workflow's end stops it.
    await db().task.update({
      where: { id: p.taskId! },
      data: { status: 'RUNNING', attempts: 1, lockedBy: 'test-worker' },
    });
    const cancel = heldTransaction(async (tx) => {
      await lockWorkflows(tx.client, [workflowId]);
      await endWorkflow(tx.client, workflowId, {
        from: ['RUNNING'],
        to: 'CANCELLED',
        message: 'cancelled',
        error: null,
      });
    });
    await cancel.held;
    const run = { taskId: p.taskId!, attempt: 1, workerId: 'test-worker' };
    const progress = stepProgress(p as unknown as StartedStep, run, w.app.pubsub, () =>
      Promise.resolve(),
    );
    progress.report(50, 'half way');
    await waitingForALock('the progress event');
    cancel.commit();
    await cancel.committed;
    await progress.settle();
    const last = await db().workflowEvent.findFirstOrThrow({
      where: { workflowId },
      orderBy: { sequence: 'desc' },
    });
    expect(last).toMatchObject({ kind: 'WORKFLOW', status: 'CANCELLED' });
  });

  it('fails a workflow whose replan ended without landing, and leaves one whose replan is still queued', async () => {
    const plan = await w.planWith([step('x', 'NOOP'), step('y', 'NOOP', { dependsOn: ['x'] })]);
    await w.gqlOk(START, { id: plan.id, v: plan.planVersion });
    const workflowId = rowId(plan.id);
    const x = await db().workflowStep.findFirstOrThrow({ where: { workflowId, key: 'x' } });
    // What a replan task left that died by its lease (no after-finish step ran): x ended under
    // REPLAN, the workflow waits on a task that will never land its tail.
    await db().workflowStep.update({ where: { id: x.id }, data: { status: 'SKIPPED' } });
    await db().workflow.update({
      where: { id: workflowId },
      data: { replanTaskId: x.taskId, updatedAt: new Date(0) },
    });
    await db().task.update({ where: { id: x.taskId! }, data: { status: 'PENDING' } });
    expect((await reconcileWorkflows(deps(), 0)).advanced).toBe(0);
    expect((await w.workflowOf(plan.id)).status).toBe('RUNNING');
    await db().task.update({ where: { id: x.taskId! }, data: { status: 'DEAD' } });
    expect((await reconcileWorkflows(deps(), 0)).advanced).toBe(1);
    const failed = await w.workflowOf(plan.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('its replan ended without a new plan');
  });
});

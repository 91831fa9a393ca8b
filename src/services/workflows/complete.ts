// Steps whose tasks completed, committed with the worker's claim (the engine's
// completeAndClaim): the step ends, their dependents and the claim in one statement
// (sql/commit-steps.ts), after the workflows' locks. Failures are not here: their policies
// run in settle.ts.
import type { PoolTransaction, Queryable } from '../../platform/db.js';
import type { WorkerClaim, WorkerClaimed } from '../../queue/task-definition.js';
import { actualsOf, startOf, workflowOf, type EndedStepTask, type SettleDeps } from './settle.js';
import { noSignals, noteLogs, signalAfterCommit } from './signals.js';
import { commitSteps } from './sql/commit-steps.js';
import { STEP_TASKS } from './sql/dispatch-ready.js';
import { lockFreeWorkflows, lockWorkflows } from './sql/lock-workflows.js';

/**
 * Before a commit of completed steps, first in its transaction (the engine's
 * lockForCompletion): the workflows of those steps that no other transaction holds, locked
 * without waiting; the tasks of steps whose workflows another holds (another worker's commit,
 * for as long as it takes) are put off to a later turn of the worker, its commit going on with
 * the rest. Two workers running one workflow's steps thus do not take turns at its lock, and a
 * held workflow holds up no other's steps. `wait` (steps put off several times already): it
 * waits for them all, in id order, and puts off none. Locked before the ends are written, as
 * cancelWorkflow locks a workflow before its tasks.
 */
export async function lockWorkflowsToComplete(
  tasks: readonly EndedStepTask[],
  client: Queryable,
  wait: boolean,
): Promise<Set<string>> {
  const workflowIds = tasks.map(workflowOf);
  if (wait) {
    await lockWorkflows(client, workflowIds);
    return new Set();
  }
  const locked = await lockFreeWorkflows(client, workflowIds);
  return new Set(tasks.filter((task) => !locked.has(workflowOf(task))).map((task) => task.id));
}

/** The workflows of `tasks` are locked (lockWorkflowsToComplete, before their ends were written). */
export async function completeStepTasks(
  tx: PoolTransaction,
  tasks: readonly EndedStepTask[],
  claim: WorkerClaim,
  deps: SettleDeps,
): Promise<WorkerClaimed> {
  const actuals = await actualsOf(tx.client, tasks, deps.settings.pricePerMillionTokens);
  const workflowIds = tasks.map(workflowOf);
  const ends = tasks.map((task) => {
    const { metered: _metered, ...actual } = actuals.get(task.id)!;
    const unwritten = task.unwritten === true;
    return { taskId: task.id, result: task.result, actual, ...startOf(task), unwritten };
  });
  const committed = await commitSteps(tx.client, workflowIds, ends, {
    ...claim,
    continuations: claim.continuations ?? claim.limit,
  });
  const signals = noSignals();
  noteLogs(signals, committed.logs);
  if (committed.queued.length) {
    signals.tasks.push(...committed.queued);
    signals.wake.add(STEP_TASKS.type);
  }
  const dispatched = committed.queued.length + committed.continued;
  // Inserted in SQL, not by enqueue(): counted here, once each, as enqueue counts its own.
  const { queueMetrics } = deps;
  if (queueMetrics && dispatched)
    tx.afterCommit(() => {
      for (let i = 0; i < dispatched; i++) queueMetrics.enqueued(STEP_TASKS);
    });
  signalAfterCommit(tx, deps.pubsub, signals);
  return { claimed: committed.claimed, continued: committed.continued, rowless: committed.rowless };
}

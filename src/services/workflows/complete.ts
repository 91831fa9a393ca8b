// Steps whose tasks completed, committed with the worker's claim (the engine's
// completeAndClaim): the step ends, their dependents and the claim in one statement
// (sql/commit-steps.ts), after the workflows' locks. Failures are not here: their policies
// run in settle.ts.
import type { PoolTransaction } from '../../platform/db.js';
import type { WorkerClaim, WorkerClaimed } from '../../queue/task-definition.js';
import { actualsOf, startOf, workflowOf, type EndedStepTask, type SettleDeps } from './settle.js';
import { noSignals, noteLogs, signalAfterCommit } from './signals.js';
import { commitSteps } from './sql/commit-steps.js';
import { STEP_TASKS } from './sql/dispatch-ready.js';
import { lockWorkflows } from './sql/lock-workflows.js';

export async function completeStepTasks(
  tx: PoolTransaction,
  tasks: readonly EndedStepTask[],
  claim: WorkerClaim,
  deps: SettleDeps,
): Promise<WorkerClaimed> {
  const actuals = await actualsOf(tx.client, tasks, deps.settings.pricePerMillionTokens);
  // Locked before the steps are read: behind a replan's commit, they read its new tail.
  const workflowIds = tasks.map(workflowOf);
  await lockWorkflows(tx.client, workflowIds);
  const ends = tasks.map((task) => {
    const { metered: _metered, ...actual } = actuals.get(task.id)!;
    return { taskId: task.id, result: task.result, actual, ...startOf(task) };
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
  return { claimed: committed.claimed, continued: committed.continued };
}

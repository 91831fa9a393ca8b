// The workflow reconciler, run by every worker every WORKFLOW_RECONCILE_MS: repairs what a
// killed process can leave between commits. Live steps whose task ended (a dead letter whose
// after-finish step never ran) are settled; steps whose task is gone run again; stalled
// running workflows are dispatched or ended; tasks of ended steps are cancelled. Each repair
// takes the workflow's row lock (skipping one a commit holds), so it never races a commit.
import { DEFAULT_MAX_LEASE_LOSSES } from '../../platform/config.js';
import { db, inTransaction } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { advanceWorkflows } from './progress.js';
import { settleStepTasks, type EndedStepTask, type SettleDeps } from './settle.js';
import {
  noSignals,
  noteCancelledTasks,
  noteLogs,
  noteWorkflowChange,
  sendSignals,
} from './signals.js';
import { cancelTasksOfEndedSteps } from './sql/cancel-tasks-of-ended-steps.js';
import { endWorkflow } from './sql/end-workflow.js';
import { lockStalledWorkflow } from './sql/lock-stalled-workflow.js';
import { requeueStepsWithoutTask } from './sql/requeue-steps-without-task.js';
import { selectOrphanedSteps } from './sql/select-orphaned-steps.js';
import { selectStalledWorkflows } from './sql/select-stalled-workflows.js';
import { readyWaitingSteps } from './sql/start-steps.js';

export interface ReconcileReport {
  settled: number;
  requeued: number;
  advanced: number;
  cancelledTasks: number;
}

/**
 * `quietMs`: a workflow changed more recently than this is left to the commits under way.
 * `maxLostRuns`: runs a step may lose with their worker before its task was written
 * (TASK_MAX_LEASE_LOSSES).
 */
export async function reconcileWorkflows(
  deps: SettleDeps,
  quietMs = 2_000,
  maxLostRuns = DEFAULT_MAX_LEASE_LOSSES,
): Promise<ReconcileReport> {
  const orphans = await selectOrphanedSteps(db());
  const ended: EndedStepTask[] = orphans.flatMap((row) =>
    row.taskId && row.status ? [{ ...row, id: row.taskId, status: row.status }] : [],
  );
  for (const task of ended)
    await repairing({ taskId: task.id }, () =>
      inTransaction((tx) => settleStepTasks(tx, [task], deps)),
    );
  const { requeued } = await requeueStepsWithoutTask(
    db(),
    orphans.filter((row) => !row.status).map((row) => row.stepId),
    maxLostRuns,
  );
  const stalled = await selectStalledWorkflows(db(), quietMs);
  let advanced = 0;
  for (const workflow of stalled)
    if (await repairing({ workflowId: workflow.id }, () => repairWorkflow(workflow, deps)))
      advanced++;
  const cancelled = await cancelTasksOfEndedSteps(db());
  const signals = noSignals();
  noteCancelledTasks(signals, cancelled);
  sendSignals(deps.pubsub, signals);
  return { settled: ended.length, requeued, advanced, cancelledTasks: cancelled.length };
}

/**
 * One repair, whose failure is logged and leaves the rest of the pass to go on: each pass
 * finds the same rows again, so one repair that always failed stopped every repair after it,
 * on every worker.
 */
async function repairing<T>(
  what: Record<string, string>,
  repair: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await repair();
  } catch (error) {
    logger.warn({ ...what, err: (error as Error).message }, 'workflow repair failed; skipped');
    return undefined;
  }
}

async function repairWorkflow(workflow: { id: string }, deps: SettleDeps): Promise<boolean> {
  return inTransaction(async (tx) => {
    const locked = await lockStalledWorkflow(tx.client, workflow.id);
    if (!locked) return false;
    const signals = noSignals();
    if (locked.replanEnded) {
      const message = 'its replan ended without a new plan';
      const end = await endWorkflow(tx.client, workflow.id, {
        from: ['RUNNING'],
        to: 'FAILED',
        message,
        error: message,
      });
      noteWorkflowChange(signals, workflow.id, end);
    } else {
      noteLogs(signals, await readyWaitingSteps(tx.client, workflow.id));
    }
    await advanceWorkflows(tx, [workflow.id], signals, deps);
    return true;
  });
}

// retryWorkflow: reruns a failed step and everything downstream of it (and what
// its failure cancelled), keeping the results of every other step. The workflow runs again. Only
// a workflow that ended (FAILED or CANCELLED): a running one's steps and replan are under way.
import { inTransaction } from '../../platform/db.js';
import { conflict } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { advanceDepsOf, type WorkflowDeps } from './idempotency.js';
import { badWorkflowInput, workflowFinished } from './problems.js';
import { advanceWorkflows } from './progress.js';
import { requireWritableWorkflow } from './read.js';
import { noSignals, noteLogs, noteWorkflowChange } from './signals.js';
import { resetSteps } from './sql/reset-steps.js';
import { readyWaitingSteps } from './sql/start-steps.js';

const RETRYABLE_STEP = new Set(['FAILED', 'SKIPPED', 'CANCELLED']);

const stillRunning = () =>
  conflict('the workflow is still running: retry it once it has failed or been cancelled', {
    reason: 'STILL_RUNNING',
  });

export async function retryWorkflow(
  workflowId: string,
  fromStepKey: string,
  caller: Caller,
  deps: Pick<WorkflowDeps, 'pubsub' | 'metrics'>,
): Promise<string> {
  const workflow = await requireWritableWorkflow(workflowId, caller);
  if (workflow.status === 'SUCCEEDED') throw workflowFinished(workflow.status);
  // Cancelled before it started, it never passed startWorkflow's checks (its constraints):
  // start it again from a plan rather than retry it.
  if (workflow.status === 'PLANNED' || workflow.startedAt === null)
    throw conflict('the workflow has not started', { reason: 'NOT_STARTED' });
  if (workflow.status === 'RUNNING') throw stillRunning();
  await inTransaction(async (tx) => {
    // The row lock first: a commit of this workflow's steps waits, and so do we for one under way.
    const [locked] = await tx.client.$queryRaw<Array<{ status: string }>>`
      SELECT status FROM workflows WHERE id = ${workflow.id}::uuid FOR UPDATE`;
    if (locked?.status === 'SUCCEEDED') throw workflowFinished('SUCCEEDED');
    if (locked?.status === 'RUNNING') throw stillRunning();
    const step = await tx.client.workflowStep.findUnique({
      where: { workflowId_key: { workflowId: workflow.id, key: fromStepKey } },
      select: { status: true },
    });
    if (!step)
      throw badWorkflowInput('UNKNOWN_STEP', `no step ${fromStepKey} in this workflow`, {
        field: 'fromStepKey',
      });
    if (!RETRYABLE_STEP.has(step.status))
      throw conflict(
        `step ${fromStepKey} is ${step.status}: only a failed, skipped or cancelled step is retried`,
        {
          reason: 'STEP_NOT_FAILED',
        },
      );
    const reset = await resetSteps(tx.client, workflow.id, fromStepKey);
    // The retrying key pays for what runs again (its LLM budgets apply from here on).
    await tx.client.workflow.update({
      where: { id: workflow.id },
      data: { apiKeyId: caller.apiKeyId },
    });
    const signals = noSignals();
    if (reset) noteWorkflowChange(signals, workflow.id, reset);
    noteLogs(signals, await readyWaitingSteps(tx.client, workflow.id));
    await advanceWorkflows(tx, [workflow.id], signals, advanceDepsOf(deps));
  });
  return workflow.id;
}

// A workflow's end as webhooks: workflow.completed (SUCCEEDED) or workflow.failed (FAILED,
// CANCELLED: the failed steps and their errors), to the team's subscribed endpoints, the
// endpoint its run named and its raw webhookUrl. Sent after the end commits: by the worker
// once a step or replan task ends, by cancelWorkflow, and by the reconciler's sweep for any
// end the others missed (a process killed in between); each end is claimed once.
import { inTransaction, poolQueryable } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { publicId } from '../../platform/public-ids.js';
import { emitWebhookEvent, type EmitDeps } from '../webhooks/emit.js';
import { claimEndedUnnotified, type EndedWorkflowToNotify } from './sql/claim-ended-unnotified.js';
import { hasUnnotifiedEnd } from './sql/has-unnotified-end.js';

export type WorkflowWebhookDeps = Omit<EmitDeps, 'tx'>;

/** Sends the ends of these workflows (null: every unsent end); never throws. */
export async function notifyWorkflowEnds(
  workflowIds: readonly string[] | null,
  deps: WorkflowWebhookDeps,
): Promise<number> {
  try {
    if (workflowIds && !(await hasUnnotifiedEnd(poolQueryable(), workflowIds))) return 0;
    // The claim and the messages commit together: an end whose messages failed stays unsent.
    return await inTransaction(async (tx) => {
      const ended = await claimEndedUnnotified(tx.client, workflowIds);
      for (const workflow of ended) await emitEnd(workflow, { ...deps, tx });
      return ended.length;
    });
  } catch (error) {
    logger.warn({ err: error }, 'workflow ends not sent; the reconciler retries');
    return 0;
  }
}

/**
 * The workflows whose step or replan tasks ended here, checked together every `delayMs`: most
 * step ends end no workflow, and one lookup per step end was one more statement per step on
 * the engine's busiest path (thousands a second). An end a stopped process did not check is
 * the reconciler's sweep's.
 */
export function batchedWorkflowEnds(
  deps: WorkflowWebhookDeps,
  delayMs = 20,
): (workflowId: string) => void {
  let waiting = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  return (workflowId) => {
    waiting.add(workflowId);
    timer ??= setTimeout(() => {
      const ids = [...waiting];
      waiting = new Set();
      timer = undefined;
      void notifyWorkflowEnds(ids, deps);
    }, delayMs);
  };
}

function emitEnd(workflow: EndedWorkflowToNotify, deps: EmitDeps) {
  return emitWebhookEvent(
    {
      type: workflow.status === 'SUCCEEDED' ? 'workflow.completed' : 'workflow.failed',
      teamId: workflow.teamId,
      ownerId: workflow.ownerId,
      data: {
        workflowId: publicId('Workflow', workflow.id),
        goal: workflow.goal,
        status: workflow.status,
        error: workflow.error,
        failedSteps: workflow.failedSteps,
        completedAt: new Date(workflow.completedAt).toISOString(),
      },
    },
    // Its own URL's attempts are listed on the workflow.
    { endpointId: workflow.webhookEndpointId, url: workflow.webhookUrl, workflowId: workflow.id },
    deps,
  );
}

/** The workflow a step or replan task belongs to, from its payload. */
export const workflowOfTask = (payload: unknown): string | undefined => {
  const id = (payload as { workflowId?: unknown } | null)?.workflowId;
  return typeof id === 'string' ? id : undefined;
};

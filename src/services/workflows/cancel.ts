// cancelWorkflow: everything stops in one statement (the workflow, its open
// steps, their tasks; running ones are aborted by their workers at the push), and asking again
// changes nothing. A workflow that ended by itself is a CONFLICT. The workflow is locked
// first: behind a step's commit, the statement then reads the steps and tasks it made.
import { inTransaction } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import type { WorkflowDeps } from './idempotency.js';
import { workflowFinished } from './problems.js';
import { requireWritableWorkflow } from './read.js';
import { noSignals, noteWorkflowChange, sendSignals } from './signals.js';
import { endWorkflow } from './sql/end-workflow.js';
import { lockWorkflows } from './sql/lock-workflows.js';
import { notifyWorkflowEnds } from './webhooks.js';

export async function cancelWorkflow(
  workflowId: string,
  caller: Caller,
  deps: Pick<WorkflowDeps, 'pubsub' | 'webhooks' | 'metrics'>,
): Promise<string> {
  const workflow = await requireWritableWorkflow(workflowId, caller);
  if (workflow.status === 'SUCCEEDED' || workflow.status === 'FAILED')
    throw workflowFinished(workflow.status);
  const ended = await inTransaction(async (tx) => {
    await lockWorkflows(tx.client, [workflow.id]);
    return endWorkflow(tx.client, workflow.id, {
      from: ['PLANNED', 'RUNNING'],
      to: 'CANCELLED',
      message: `cancelled by ${caller.userName}`,
      error: null,
    });
  });
  if (ended.lastSequence !== null) {
    const signals = noSignals();
    noteWorkflowChange(signals, workflow.id, ended);
    sendSignals(deps.pubsub, signals);
    await notifyWorkflowEnds([workflow.id], {
      pubsub: deps.pubsub,
      webhooks: deps.webhooks,
      metrics: deps.metrics?.queue,
    });
  }
  return workflow.id;
}

// After steps changed in a transaction: the workflows' READY steps get tasks (within their
// parallelism), workflows with nothing left end, and the signals wait for the commit.
import type { Transaction } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import { completeWorkflows } from './sql/complete-workflows.js';
import { dispatchReadySteps } from './sql/dispatch-ready.js';
import { noteLogs, signalAfterCommit, type WorkflowSignals } from './signals.js';
import { workflowStep } from './step-task.js';

export async function advanceWorkflows(
  tx: Transaction,
  workflowIds: readonly string[],
  signals: WorkflowSignals,
  pubsub: PubSub,
): Promise<void> {
  const ids = [...new Set(workflowIds)];
  const dispatched = await dispatchReadySteps(tx.client, ids);
  if (dispatched.length) {
    signals.tasks.push(...dispatched);
    signals.wake.add(workflowStep.name);
  }
  noteLogs(signals, await completeWorkflows(tx.client, ids));
  signalAfterCommit(tx, pubsub, signals);
}

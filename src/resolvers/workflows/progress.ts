// After steps changed in a transaction: the workflows' READY steps get tasks (within their
// parallelism), workflows with nothing left end, and the signals wait for the commit.
import type { Transaction } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import { dispatchAndComplete } from './sql/dispatch-ready.js';
import { noteLogs, signalAfterCommit, type WorkflowSignals } from './signals.js';
import { workflowStep } from './step-task.js';

export async function advanceWorkflows(
  tx: Transaction,
  workflowIds: readonly string[],
  signals: WorkflowSignals,
  pubsub: PubSub,
): Promise<void> {
  const ids = [...new Set(workflowIds)];
  const changed = await dispatchAndComplete(tx.client, ids);
  const dispatched = changed.filter((row) => row.change === 'task');
  if (dispatched.length) {
    signals.tasks.push(...dispatched);
    signals.wake.add(workflowStep.name);
  }
  noteLogs(
    signals,
    changed.filter((row) => row.change === 'workflow'),
  );
  signalAfterCommit(tx, pubsub, signals);
}

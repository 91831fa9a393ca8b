// After steps changed in a transaction: the workflows' READY steps get tasks (within their
// parallelism), workflows with nothing left end, and the signals wait for the commit.
import type { Transaction } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { QueueMetrics } from '../../queue/queue-metrics.js';
import { dispatchAndComplete, STEP_TASKS } from './sql/dispatch-ready.js';
import { noteLogs, signalAfterCommit, type WorkflowSignals } from './signals.js';

export interface AdvanceDeps {
  pubsub: PubSub;
  /** Counts the step tasks dispatched, after the commit (tasks_enqueued_total); unset: not counted. */
  queueMetrics?: QueueMetrics;
}

export async function advanceWorkflows(
  tx: Transaction,
  workflowIds: readonly string[],
  signals: WorkflowSignals,
  { pubsub, queueMetrics }: AdvanceDeps,
): Promise<void> {
  const ids = [...new Set(workflowIds)];
  const changed = await dispatchAndComplete(tx.client, ids);
  const dispatched = changed.filter((row) => row.change === 'task');
  if (dispatched.length) {
    signals.tasks.push(...dispatched);
    signals.wake.add(STEP_TASKS.type);
    // Inserted in SQL, not by enqueue(): counted here, once each, as enqueue counts its own.
    if (queueMetrics)
      tx.afterCommit(() => {
        for (let i = 0; i < dispatched.length; i++) queueMetrics.enqueued(STEP_TASKS);
      });
  }
  noteLogs(
    signals,
    changed.filter((row) => row.change === 'workflow'),
  );
  signalAfterCommit(tx, pubsub, signals);
}

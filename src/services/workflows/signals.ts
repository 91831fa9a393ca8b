// After a workflow change commits: its log's new end is announced (subscribers read the log),
// new step tasks wake workers, and running tasks asked to stop are told at once.
import type { Transaction } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import { announceTaskEvents, pushCancellation, wakeWorkers } from '../../queue/signals.js';

export interface WorkflowSignals {
  /** Workflow id → its last sequence. */
  logs: Map<string, number>;
  /** Tasks created or changed (announced on taskEvents). */
  tasks: Array<{ id: string; lastSequence: number }>;
  /** Task types to wake workers for. */
  wake: Set<string>;
  /** Running tasks flagged for cancellation. */
  cancel: string[];
}

export const noSignals = (): WorkflowSignals => ({
  logs: new Map(),
  tasks: [],
  wake: new Set(),
  cancel: [],
});

export function noteLogs(
  signals: WorkflowSignals,
  rows: ReadonlyArray<{ workflowId: string; lastSequence: number }>,
): void {
  for (const row of rows)
    signals.logs.set(
      row.workflowId,
      Math.max(row.lastSequence, signals.logs.get(row.workflowId) ?? 0),
    );
}

/** Tasks a change cancelled: each announced, the running ones told to stop at once. */
export function noteCancelledTasks(
  signals: WorkflowSignals,
  tasks: ReadonlyArray<{ id: string; status: string; lastSequence: number }>,
): void {
  signals.tasks.push(...tasks);
  for (const task of tasks) if (task.status === 'RUNNING') signals.cancel.push(task.id);
}

/** A workflow's end or reset (endWorkflow, resetSteps): its log's new end (null: unchanged) and its cancelled tasks. */
export function noteWorkflowChange(
  signals: WorkflowSignals,
  workflowId: string,
  change: {
    lastSequence: number | null;
    tasks: ReadonlyArray<{ id: string; status: string; lastSequence: number }>;
  },
): void {
  if (change.lastSequence !== null)
    noteLogs(signals, [{ workflowId, lastSequence: change.lastSequence }]);
  noteCancelledTasks(signals, change.tasks);
}

/** Not awaited by callers' commits: signals only (a lost one costs a poll). */
export function sendSignals(pubsub: PubSub, signals: WorkflowSignals): void {
  void pubsub.publishMany(
    'workflowEvents',
    [...signals.logs].map(([workflowId, sequence]) => [workflowId, { workflowId, sequence }]),
  );
  void announceTaskEvents(pubsub, signals.tasks);
  for (const type of signals.wake) void wakeWorkers(pubsub, type);
  for (const taskId of signals.cancel) void pushCancellation(pubsub, taskId);
}

/** Sends the signals once the transaction has committed. */
export function signalAfterCommit(
  tx: Pick<Transaction, 'afterCommit'>,
  pubsub: PubSub,
  signals: WorkflowSignals,
): void {
  tx.afterCommit(() => sendSignals(pubsub, signals));
}

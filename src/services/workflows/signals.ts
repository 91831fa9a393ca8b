// After a workflow change commits: its log's new end is announced (subscribers read the log),
// new step tasks wake workers, running tasks asked to stop are told at once, and tasks whose
// cancellation met their row held by another transaction are asked again.
import { announceChanges } from '../../platform/changes.js';
import { db, type Transaction } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import { requestCancellation } from '../../queue/cancel.js';
import {
  announceTaskEvent,
  announceTaskEvents,
  pushCancellation,
  pushCancellations,
  wakeWorkers,
} from '../../queue/signals.js';

export interface WorkflowSignals {
  /** Workflow id → its last sequence. */
  logs: Map<string, number>;
  /** Tasks created or changed (announced on taskEvents). */
  tasks: Array<{ id: string; lastSequence: number }>;
  /** Task types to wake workers for. */
  wake: Set<string>;
  /** Running tasks flagged for cancellation, and their log positions once flagged. */
  cancel: Array<{ id: string; lastSequence: number }>;
  /**
   * Tasks ended here before they ran (cancelled while PENDING): no worker sees them end, so
   * their end is announced with the signals, as cancelTask's is (live queries read them again).
   */
  ended: string[];
  /** Tasks to cancel whose rows another transaction held (src/queue/cancel-tasks.ts). */
  cancelAgain: string[];
}

export const noSignals = (): WorkflowSignals => ({
  logs: new Map(),
  tasks: [],
  wake: new Set(),
  cancel: [],
  ended: [],
  cancelAgain: [],
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
  for (const task of tasks)
    if (task.status === 'RUNNING') signals.cancel.push(task);
    // Cancelled while PENDING (a cancellation makes no other end: cancelTasksCtes).
    else if (task.status === 'CANCELLED') signals.ended.push(task.id);
}

/** A workflow's end or reset (endWorkflow, resetSteps): its log's new end (null: unchanged) and its cancelled tasks. */
export function noteWorkflowChange(
  signals: WorkflowSignals,
  workflowId: string,
  change: {
    lastSequence: number | null;
    tasks: ReadonlyArray<{ id: string; status: string; lastSequence: number }>;
    held: readonly string[];
  },
): void {
  if (change.lastSequence !== null)
    noteLogs(signals, [{ workflowId, lastSequence: change.lastSequence }]);
  noteCancelledTasks(signals, change.tasks);
  signals.cancelAgain.push(...change.held);
}

/**
 * A task whose row another transaction held when its step ended (a worker recording its start
 * or progress, renewing its lease): its cancellation requested again once that one committed
 * (the request waits for the row; it holds nothing else), announced, and pushed to its worker
 * (or, cancelled before it ran, its end announced).
 * So its worker stops it within moments rather than at the reconciler's next pass, which
 * remains the backstop (a task that ended meanwhile changes nothing).
 */
async function cancelAgain(pubsub: PubSub, taskId: string): Promise<void> {
  const requested = await requestCancellation(db(), taskId);
  if (!requested?.changed) return;
  await announceTaskEvent(pubsub, requested.task);
  if (requested.task.status === 'RUNNING')
    await pushCancellation(pubsub, taskId, requested.task.lastSequence);
  else await announceChanges({ kind: 'task.ended', taskId });
}

/** Not awaited by callers' commits: signals only (a lost one costs a poll). */
export function sendSignals(pubsub: PubSub, signals: WorkflowSignals): void {
  void pubsub.publishMany(
    'workflowEvents',
    [...signals.logs].map(([workflowId, sequence]) => [workflowId, { workflowId, sequence }]),
  );
  void announceTaskEvents(pubsub, signals.tasks);
  for (const type of signals.wake) void wakeWorkers(pubsub, type);
  // One message: its worker drops the waiting ones before a stopped one's slot takes another.
  void pushCancellations(
    pubsub,
    signals.cancel.map((task) => ({ taskId: task.id, sequence: task.lastSequence })),
  );
  if (signals.ended.length)
    void announceChanges(
      ...signals.ended.map((taskId) => ({ kind: 'task.ended' as const, taskId })),
    );
  for (const taskId of signals.cancelAgain)
    cancelAgain(pubsub, taskId).catch((err: Error) =>
      logger.warn({ err: err.message, taskId }, 'asking again to cancel a task failed'),
    );
}

/** Sends the signals once the transaction has committed. */
export function signalAfterCommit(
  tx: Pick<Transaction, 'afterCommit'>,
  pubsub: PubSub,
  signals: WorkflowSignals,
): void {
  tx.afterCommit(() => sendSignals(pubsub, signals));
}

// workflow_step: runs one step of a workflow. Its start commits with its claim when
// a step's commit claimed it (and no other transaction held its workflow), else it is batched
// with the worker's other starts (one statement marks them RUNNING); its end commits with the task's
// (finishInTransaction): the step's result, its dependents made ready and their tasks, in the
// transaction fenced by the task's attempt. Ends outside that transaction (dead letters,
// cancellations before the run) settle in the after-finish step; the reconciler covers a crash.
import { db, inTransaction, type Transaction } from '../../../platform/db.js';
import type { PubSub } from '../../../platform/pubsub.js';
import { requestCancellation } from '../../../queue/cancel.js';
import { announceTaskEvent, pushCancellation } from '../../../queue/signals.js';
import type { QueueMetrics } from '../../../queue/queue-metrics.js';
import type { TaskRow } from '../../../queue/task-row.js';
import type { ReportWriter } from '../../../reports/writers/types.js';
import type { MeteringWriter } from '../../../llm/metering.js';
import { ProviderError } from '../../../reports/writers/types.js';
import type { WorkflowSettings } from '../settings.js';
import { settleStepTasks } from '../settle.js';
import { runStepKind, StepCannotRun } from '../step-kinds.js';
import {
  startSteps,
  startStepsInTransaction,
  stepProgress,
  type StartedStep,
  type StepStart,
} from '../step-run.js';
import { workflowStep } from './specs.js';
import { batchWrites } from '../../../platform/batch-writes.js';
import { defineTask, NonRetryableError } from '../../../queue/task-definition.js';

export interface WorkflowTaskSettings {
  /**
   * Read at each run: the configured report writer, and the LLM metering its calls go to
   * (written before the step ends, so the step's actual counts every attempt's call).
   */
  llm: { writer: ReportWriter; metering: Pick<MeteringWriter, 'flush'> };
  workflows: Pick<WorkflowSettings, 'pricePerMillionTokens'>;
  /** Counts the step tasks (and replans) a step's end enqueues; unset: not counted. */
  queueMetrics?: QueueMetrics;
}

/**
 * A worker's step starts: those a step's commit claimed are marked RUNNING in that commit
 * (unless another transaction holds their workflow: waiting for it there could deadlock) and
 * kept here for their runs, by task id; the others in one statement per batch of starts.
 * Started together, a worker's tasks end together, and their ends commit as one batch.
 */
function stepStarts() {
  let batch: ((start: StepStart) => Promise<StartedStep | undefined>) | undefined;
  const early = new Map<string, { attempt: number; step: StartedStep }>();
  return {
    async inClaim(claimed: readonly TaskRow[], tx: Transaction, pubsub: PubSub) {
      if (claimed.length === 0) return;
      const starts = claimed.map((task) => ({
        stepId: (task.payload as { stepId: string }).stepId,
        taskId: task.id,
        attempt: task.attempts,
      }));
      const rows = await startStepsInTransaction(tx, starts, pubsub);
      const byStep = new Map(starts.map((each) => [each.stepId, each]));
      tx.afterCommit(() => {
        for (const step of rows) {
          const { taskId, attempt } = byStep.get(step.id)!;
          early.set(taskId, { attempt, step });
        }
      });
    },
    of(stepId: string, task: { id: string; attempts: number }, pubsub: PubSub) {
      const started = early.get(task.id);
      early.delete(task.id);
      if (started?.attempt === task.attempts) return Promise.resolve(started.step);
      batch ??= batchWrites((starts: StepStart[]) => startSteps(starts, pubsub));
      return batch({ stepId, taskId: task.id, attempt: task.attempts });
    },
  };
}

/**
 * A task whose step is no longer its to run (the workflow was cancelled or failed between the
 * claim and the start, or the step was retried or settled meanwhile) was cancelled, not failed:
 * its cancellation is requested as any other's (already flagged, it is pushed again: the first
 * push may have come before the claim), and the engine ends the attempt CANCELLED when the
 * request reaches it (the push, else the next heartbeat).
 */
async function cancelledBeforeStart(
  task: TaskRow,
  signal: AbortSignal,
  pubsub: PubSub,
): Promise<never> {
  const requested = await requestCancellation(db(), task.id);
  if (requested?.changed) await announceTaskEvent(pubsub, requested.task);
  await pushCancellation(pubsub, task.id);
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export function workflowStepTask(settings: WorkflowTaskSettings) {
  const starts = stepStarts();
  const settleDeps = (pubsub: PubSub) => ({
    pubsub,
    settings: settings.workflows,
    queueMetrics: settings.queueMetrics,
  });
  return defineTask(workflowStep, {
    async run({ stepId }, { task, signal, pubsub }) {
      const step = await starts.of(stepId, task, pubsub);
      if (!step) return cancelledBeforeStart(task, signal, pubsub);
      const progress = stepProgress(step, task.id, pubsub);
      try {
        return await runStepKind({
          step,
          taskId: task.id,
          signal,
          pubsub,
          writer: settings.llm.writer,
          progress: progress.report,
        });
      } catch (error) {
        if (error instanceof StepCannotRun) throw new NonRetryableError(error.message);
        if (error instanceof ProviderError && !error.retryable)
          throw new NonRetryableError(error.message);
        throw error;
      } finally {
        await progress.settle();
        // Its LLM calls' rows, failed attempts' too, are in before the step's end reads them.
        if (step.kind === 'WRITE_SECTION')
          await settings.llm.metering.flush().catch(() => undefined);
      }
    },
    claimedInTransaction: (claimed, tx, pubsub) => starts.inClaim(claimed, tx, pubsub),
    async finishInTransaction(finished, tx, pubsub) {
      await settleStepTasks(tx, finished, settleDeps(pubsub));
    },
    async onFinished(task, pubsub) {
      // Completed steps settled with their end; the others may have ended outside the hook.
      if (task.status === 'COMPLETED') return;
      await inTransaction((tx) => settleStepTasks(tx, [task], settleDeps(pubsub)));
    },
  });
}

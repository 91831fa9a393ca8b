// workflow_step: runs one step of a workflow. The run reads its step (a worker's reads batch
// together), unless its task came with it (claimed in a step commit, which read it); the
// step's start is recorded once the run has gone on for START_RECORD_DELAY_MS, or before its
// first progress event or its failure, and a run that succeeds sooner has its start recorded
// with its end. Its end commits with the task's, in the transaction fenced by the task's
// attempt: completed steps, their dependents and the worker's claim in one statement
// (completeAndClaim, complete.ts), failures by their policy (finishInTransaction, settle.ts).
// Ends outside that transaction (dead letters, cancellations before the run) settle in the
// after-finish step; the reconciler covers a crash.
import { db, inTransaction } from '../../../platform/db.js';
import type { PubSub } from '../../../platform/pubsub.js';
import { requestCancellation } from '../../../queue/cancel.js';
import { announceTaskEvent, pushCancellation } from '../../../queue/signals.js';
import type { QueueMetrics } from '../../../queue/queue-metrics.js';
import type { ClaimedTaskRow } from '../../../queue/task-row.js';
import type { ReportWriter } from '../../../reports/writers/types.js';
import type { MeteringWriter } from '../../../llm/metering.js';
import { ProviderError } from '../../../reports/writers/types.js';
import type { WorkflowSettings } from '../settings.js';
import { completeStepTasks, lockWorkflowsToComplete } from '../complete.js';
import { settleStepTasks, workflowOf } from '../settle.js';
import { writeUnwrittenSteps } from '../sql/write-unwritten-steps.js';
import { runStepKind, StepCannotRun } from '../step-kinds.js';
import {
  readSteps,
  startSteps,
  stepProgress,
  type StartedStep,
  type StepStart,
} from '../step-run.js';
import { workflowStep } from './specs.js';
import type { PluginStepDeps } from '../../plugins/steps.js';
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
  /** PLUGIN_TOOL and PLUGIN_AGENT steps' keyring, network settings and LLM routes. */
  plugins?: PluginStepDeps;
}

/**
 * How long a step runs before its start is recorded by itself. A step that ends sooner (a
 * no-op, a cached answer) has it recorded with its end, in the commit that writes the end: one
 * commit and one lock of its workflow instead of two. Its log still reads READY, RUNNING,
 * then its end; RUNNING is only late by at most this much for the steps that run longer.
 */
const START_RECORD_DELAY_MS = 50;

/** A worker's step reads and start records, each batched across its runs (one statement each). */
function stepStarts(pubsub: PubSub) {
  const read = batchWrites((starts: StepStart[]) => readSteps(starts));
  const record = batchWrites(async (starts: StepStart[]) => {
    await startSteps(starts, pubsub);
    return starts.map(() => undefined);
  });
  return {
    read,
    /** The start's record: due after START_RECORD_DELAY_MS, or at once when `now()` is called. */
    recorder(start: StepStart) {
      let recorded: Promise<unknown> | undefined;
      // A failed record is tried again by the next call (a progress event, the run's failure);
      // the step's end writes the start it finds missing.
      const now = () =>
        (recorded ??= record(start).catch(() => {
          recorded = undefined;
        }));
      const timer = setTimeout(() => void now(), START_RECORD_DELAY_MS);
      return {
        now,
        /** No record from now on unless one is under way; resolves once that one is written. */
        settle() {
          clearTimeout(timer);
          return recorded ?? Promise.resolve();
        },
      };
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
  task: ClaimedTaskRow,
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
  const settleDeps = (pubsub: PubSub) => ({
    pubsub,
    settings: settings.workflows,
    queueMetrics: settings.queueMetrics,
  });
  // Made per pub/sub: workers that share a registry (tests) each announce through their own.
  const startsOf = perPubSub(stepStarts);
  const settleEndedOf = perPubSub((pubsub) =>
    settleEndedSteps((tasks) =>
      inTransaction((tx) => settleStepTasks(tx, tasks, settleDeps(pubsub))),
    ),
  );
  return defineTask(workflowStep, {
    async run({ stepId }, helpers) {
      const { task, pubsub } = helpers;
      const starts = startsOf(pubsub);
      const start = {
        stepId,
        taskId: task.id,
        attempt: task.attempts,
        workerId: helpers.workerId,
        runStartedAt: Date.now(),
      };
      // A task claimed in a step commit carries its step, read by that commit (commit-steps.ts).
      const prefetched = task.prefetched as StartedStep | undefined;
      const step = prefetched?.id === stepId ? prefetched : await starts.read(start);
      if (!step) return cancelledBeforeStart(task, helpers.signal, pubsub);
      const recorder = starts.recorder(start);
      const progress = stepProgress(step, start, pubsub, recorder.now);
      try {
        return await runStepKind({
          step,
          taskId: task.id,
          // Read when a kind asks for it: the engine makes an attempt's signal on first read.
          get signal() {
            return helpers.signal;
          },
          pubsub,
          writer: settings.llm.writer,
          plugins: settings.plugins,
          progress: progress.report,
        });
      } catch (error) {
        // Its failure (or cancellation) is settled after its start, which its log shows first.
        await recorder.now();
        if (error instanceof StepCannotRun) throw new NonRetryableError(error.message);
        if (error instanceof ProviderError && !error.retryable)
          throw new NonRetryableError(error.message);
        throw error;
      } finally {
        await progress.settle();
        await recorder.settle();
        // Its LLM calls' rows, failed attempts' too, are in before the step's end reads them.
        if (step.kind === 'WRITE_SECTION' || step.kind === 'PLUGIN_AGENT')
          await settings.llm.metering.flush().catch(() => undefined);
      }
    },
    async finishInTransaction(finished, tx, pubsub) {
      await settleStepTasks(tx, finished, settleDeps(pubsub));
    },
    completeAndClaim(completed, tx, claim, pubsub) {
      return completeStepTasks(tx, completed, claim, settleDeps(pubsub));
    },
    lockForCompletion: lockWorkflowsToComplete,
    writeUnwritten: writeUnwrittenSteps,
    // Its commit locks its workflow: one worker's commits of different workflows go side by side.
    commitKey: workflowOf,
    async onFinished(task, pubsub) {
      // Completed steps settled with their end; the others may have ended outside the hook.
      if (task.status === 'COMPLETED') return;
      await settleEndedOf(pubsub)(task);
    },
  });
}

/** `make`'s value for each pub/sub, made on first use. */
function perPubSub<T>(make: (pubsub: PubSub) => T): (pubsub: PubSub) => T {
  const made = new WeakMap<PubSub, T>();
  return (pubsub) => {
    if (!made.has(pubsub)) made.set(pubsub, make(pubsub));
    return made.get(pubsub)!;
  };
}

/**
 * Steps that ended outside the engine's commit, settled together: a cancelled workflow's running
 * steps all end at once, and each in a transaction of its own held a pooled connection while it
 * waited for their workflow's lock (64 of them emptied a pool of 10). A batch that fails is
 * settled again one step at a time, so that a step at fault fails alone.
 */
function settleEndedSteps(settle: (tasks: ClaimedTaskRow[]) => Promise<void>) {
  const settleBatch = batchWrites(async (tasks: ClaimedTaskRow[]) => {
    try {
      await settle(tasks);
      return tasks.map(() => undefined);
    } catch (error) {
      if (tasks.length === 1) return [error];
      const errors: unknown[] = [];
      for (const task of tasks) errors.push(await settle([task]).catch((alone: unknown) => alone));
      return errors;
    }
  });
  return async (task: ClaimedTaskRow) => {
    const error = await settleBatch(task);
    if (error !== undefined) throw error;
  };
}

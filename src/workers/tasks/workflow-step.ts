// workflow_step (issue 30): runs one step of a workflow. Its start is batched with the
// worker's other starts (one statement marks them RUNNING); its end commits with the task's
// (finishInTransaction): the step's result, its dependents made ready and their tasks, in the
// transaction fenced by the task's attempt. Ends outside that transaction (dead letters,
// cancellations before the run) settle in the after-finish step; the reconciler covers a crash.
import { inTransaction } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { ReportWriter } from '../../reports/providers/types.js';
import { ProviderError } from '../../reports/providers/types.js';
import type { WorkflowSettings } from '../../resolvers/workflows/settings.js';
import { settleStepTasks } from '../../resolvers/workflows/settle.js';
import { runStepKind, StepCannotRun } from '../../resolvers/workflows/step-kinds.js';
import {
  startSteps,
  stepProgress,
  type StartedStep,
  type StepStart,
} from '../../resolvers/workflows/step-run.js';
import { workflowStep } from '../../resolvers/workflows/step-task.js';
import { batchWrites } from '../batch.js';
import { defineTask, NonRetryableError } from '../task-registry.js';

export interface WorkflowTaskSettings {
  /** Read at each run: the configured report writer. */
  topicSettings: { writer: ReportWriter };
  workflows: Pick<WorkflowSettings, 'pricePerMillionTokens'>;
}

export function workflowStepTask(settings: WorkflowTaskSettings) {
  // One batch per worker process: the starts of the attempts it begins together.
  let starter: ((start: StepStart) => Promise<StartedStep | undefined>) | undefined;
  const start = (begin: StepStart, pubsub: PubSub) =>
    (starter ??= batchWrites((starts: StepStart[]) => startSteps(starts, pubsub)))(begin);
  return defineTask(workflowStep, {
    async run({ stepId }, { task, signal, pubsub }) {
      const step = await start({ stepId, taskId: task.id, attempt: task.attempts }, pubsub);
      if (!step)
        throw new NonRetryableError(
          'the step is no longer this task’s to run (its workflow moved on)',
        );
      const progress = stepProgress(step, task.id, pubsub);
      try {
        return await runStepKind({
          step,
          taskId: task.id,
          signal,
          pubsub,
          writer: settings.topicSettings.writer,
          progress: progress.report,
        });
      } catch (error) {
        if (error instanceof StepCannotRun) throw new NonRetryableError(error.message);
        if (error instanceof ProviderError && !error.retryable)
          throw new NonRetryableError(error.message);
        throw error;
      } finally {
        await progress.settle();
      }
    },
    async finishInTransaction(finished, tx, pubsub) {
      await settleStepTasks(tx, finished, { pubsub, settings: settings.workflows });
    },
    async onFinished(task, pubsub) {
      // Completed steps settled with their end; the others may have ended outside the hook.
      if (task.status === 'COMPLETED') return;
      await inTransaction((tx) =>
        settleStepTasks(tx, [task], { pubsub, settings: settings.workflows }),
      );
    },
  });
}

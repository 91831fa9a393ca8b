// How a step's task ending moves its workflow, inside the transaction that records the end
// (the engine's finishInTransaction) or, for ends outside it (dead letters, the reconciler),
// in a transaction of its own. Succeeded steps resolve together in one statement; a failure
// is handled as its policy says (applied after the step's retries: these are terminal ends).
import type { TaskStatus } from '../../generated/prisma/enums.js';
import type { Queryable, Transaction } from '../../platform/db.js';
import { enqueue } from '../../queue/enqueue.js';
import type { TaskRow } from '../../queue/task-row.js';
import { advanceWorkflows, type AdvanceDeps } from './progress.js';
import type { WorkflowSettings } from './settings.js';
import { noSignals, noteLogs, noteWorkflowChange, type WorkflowSignals } from './signals.js';
import { endStep } from './sql/end-step.js';
import { endWorkflow } from './sql/end-workflow.js';
import { lockStepOfTask, type StepOfTask } from './sql/lock-step-of-task.js';
import { lockWorkflows } from './sql/lock-workflows.js';
import { meteredCalls } from './sql/metered-calls.js';
import { resolveSteps } from './sql/resolve-steps.js';
import { skipBranch } from './sql/skip-branch.js';
import { workflowReplan } from './tasks/specs.js';

export interface EndedStepTask extends Pick<TaskRow, 'unwritten'> {
  id: string;
  status: TaskStatus;
  result: unknown;
  error: string | null;
  payload: unknown;
  startedAt: Date | null;
  completedAt: Date | null;
  /** The attempt that ended (a step whose start was not recorded takes it); unset: unknown. */
  attempts?: number | null;
}

export interface SettleDeps extends AdvanceDeps {
  settings: Pick<WorkflowSettings, 'pricePerMillionTokens'>;
}

/**
 * What a step cost: its task's run time, and the tokens its result reports, at the cost its
 * LLM calls were metered at (their deployments' prices) or else at the configured price.
 */
// A type, not an interface: it is written as a JSON column.
export type StepActual = {
  seconds: number;
  tokens: number;
  costUsd: number;
};

function runActualOf(task: EndedStepTask, price: number): StepActual {
  const seconds =
    task.startedAt && task.completedAt
      ? (task.completedAt.getTime() - task.startedAt.getTime()) / 1000
      : 0;
  const result = task.result as { tokens?: number; costUsd?: number } | null;
  const tokens = Number(result?.tokens ?? 0) || 0;
  const metered = result?.costUsd;
  const costUsd =
    typeof metered === 'number' && Number.isFinite(metered)
      ? metered
      : (tokens * price) / 1_000_000;
  return { seconds, tokens, costUsd: Number(costUsd.toFixed(6)) };
}

/** For an end that finds its step's start missing: the attempt and its start (see resolve-steps.ts). */
export const startOf = (task: EndedStepTask) => ({
  attempt: task.attempts ?? null,
  startedAt: task.startedAt,
});

export const workflowOf = (task: EndedStepTask) =>
  (task.payload as { workflowId: string }).workflowId;

/**
 * Each task's actual: its run time, and the tokens and cost its LLM calls were metered at
 * (every attempt, failed ones too) where it may have made any: a failure, or a run that
 * reported metered calls (a no-op step's commit, the hot path, pays no query for nothing).
 */
export async function actualsOf(
  client: Queryable,
  tasks: readonly EndedStepTask[],
  price: number,
): Promise<Map<string, StepActual & { metered: boolean }>> {
  const asked = tasks.filter(
    (task) =>
      task.status !== 'COMPLETED' ||
      typeof (task.result as { costUsd?: unknown } | null)?.costUsd === 'number',
  );
  const metered = await meteredCalls(
    client,
    asked.map((task) => task.id),
  );
  return new Map(
    tasks.map((task) => {
      const actual = runActualOf(task, price);
      const calls = metered.get(task.id);
      return [
        task.id,
        calls
          ? {
              ...actual,
              tokens: calls.tokens,
              costUsd: Number(calls.costUsd.toFixed(6)),
              metered: true,
            }
          : { ...actual, metered: false },
      ];
    }),
  );
}

export async function settleStepTasks(
  tx: Transaction,
  tasks: readonly EndedStepTask[],
  deps: SettleDeps,
): Promise<void> {
  const signals = noSignals();
  // Read before the locks (llm_calls need none): the locks are held one round trip less.
  const actuals = await actualsOf(tx.client, tasks, deps.settings.pricePerMillionTokens);
  // Locked before the steps are read: behind a replan's commit, they read its new tail.
  await lockWorkflows(tx.client, tasks.map(workflowOf));
  const actualOf = (task: EndedStepTask): StepActual => {
    const { metered: _metered, ...actual } = actuals.get(task.id)!;
    return actual;
  };
  const succeeded = tasks.filter((task) => task.status === 'COMPLETED');
  const resolutions = succeeded.map((task) => ({
    taskId: task.id,
    status: 'SUCCEEDED' as const,
    result: task.result,
    error: null,
    actual: actualOf(task),
    message: 'succeeded',
    ...startOf(task),
  }));
  noteLogs(signals, await resolveSteps(tx.client, resolutions));
  for (const task of tasks) {
    if (task.status === 'COMPLETED') continue;
    const actual = actualOf(task);
    await applyFailurePolicy(tx, task, actual, deps, signals);
    // A step cancelled while its task ran (cancelWorkflow) keeps what its aborted calls cost.
    if (actuals.get(task.id)!.metered)
      await tx.client.workflowStep.updateMany({
        where: { taskId: task.id, status: 'CANCELLED' },
        data: { actual },
      });
  }
  await advanceWorkflows(tx, tasks.map(workflowOf), signals, deps);
}

async function applyFailurePolicy(
  tx: Transaction,
  task: EndedStepTask,
  actual: StepActual,
  deps: SettleDeps,
  signals: WorkflowSignals,
): Promise<void> {
  const step = await lockStepOfTask(tx.client, task.id);
  if (!step) return;
  const error = (task.error ?? `its task ended ${task.status}`).slice(0, 2_000);
  let policy = step.stepPolicy ?? step.workflowPolicy;
  // A failure while a replan is pending joins it (see requestReplan): no replan more is made.
  if (policy === 'REPLAN' && !step.replanPending && step.replans >= step.maxReplans)
    policy = 'FAIL_WORKFLOW';
  const ended = (status: 'FAILED' | 'SKIPPED', message: string) =>
    endStep(tx.client, {
      id: step.id,
      taskId: task.id,
      status,
      error,
      actual,
      message,
      ...startOf(task),
    });
  switch (policy) {
    case 'SKIP': {
      const message = `failed: ${error}; skipped (SKIP): its dependents run without it`;
      const skipped = {
        taskId: task.id,
        status: 'SKIPPED' as const,
        result: null,
        error,
        actual,
        message,
        ...startOf(task),
      };
      noteLogs(signals, await resolveSteps(tx.client, [skipped]));
      return;
    }
    case 'SKIP_BRANCH':
      noteLogs(
        signals,
        await ended('SKIPPED', `failed: ${error}; skipped with its dependents (SKIP_BRANCH)`),
      );
      noteLogs(signals, await skipBranch(tx.client, step.id, step.key));
      return;
    case 'REPLAN':
      noteLogs(
        signals,
        await ended('SKIPPED', `failed: ${error}; replanning what has not started (REPLAN)`),
      );
      await requestReplan(tx, step, deps);
      return;
    default:
      noteLogs(signals, await ended('FAILED', `failed: ${error}`));
      await failWorkflow(tx, step, error, signals);
  }
}

async function failWorkflow(
  tx: Transaction,
  step: StepOfTask,
  error: string,
  signals: WorkflowSignals,
) {
  const message = `step ${step.key} failed: ${error}`.slice(0, 2_000);
  const ended = await endWorkflow(tx.client, step.workflowId, {
    from: ['RUNNING'],
    to: 'FAILED',
    message,
    error: message,
  });
  noteWorkflowChange(signals, step.workflowId, ended);
}

/**
 * The replan runs as a task of its own (the planner may take seconds); the workflow waits for it.
 * A failure while one is pending (steps already running when the first failed) asks for a new
 * one in its place, which reads every failure so far; the one replaced gives way (a replan lands
 * only as the workflow's replanTaskId) and is not counted: `replans` counts replans made, which
 * WORKFLOW_MAX_REPLANS bounds.
 */
async function requestReplan(tx: Transaction, step: StepOfTask, deps: SettleDeps) {
  const { task } = await enqueue(
    workflowReplan,
    {
      payload: { workflowId: step.workflowId, failedStepKey: step.key },
      ownerId: step.ownerId,
      teamId: step.teamId,
    },
    { pubsub: deps.pubsub, tx, metrics: deps.queueMetrics },
  );
  await tx.client.workflow.update({
    where: { id: step.workflowId },
    data: { replanTaskId: task.id, replans: { increment: step.replanPending ? 0 : 1 } },
  });
}

// Replanning: the planner gets the results and failures so far and returns a
// new tail; only steps not yet started change. A REPLAN failure runs it as a task
// (workflow_replan); replanWorkflow asks for it by hand (a PLANNED workflow is planned anew).
import type { Workflow } from '../../generated/prisma/client.js';
import { inTransaction, type Transaction } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { ClaimedTaskRow } from '../../queue/task-row.js';
import { checkPlan } from '../../reports/planner/workflow-check.js';
import { estimatePlan } from '../../reports/planner/workflow-estimate.js';
import {
  makeWorkflowPlan,
  makeWorkflowReplan,
  type WorkflowPlanOutcome,
} from '../../reports/planner/workflow-plan.js';
import type { ReplanContext } from '../../reports/planner/workflow-types.js';
import { advanceWorkflows, type AdvanceDeps } from './progress.js';
import { planRefused } from './problems.js';
import type { LlmGateway } from '../../llm/gateway.js';
import type { TopicSettings } from '../topics/settings.js';
import type { WorkflowSettings } from './settings.js';
import { plannedOf, replanContext } from './replan-context.js';
import { noSignals, noteLogs, noteWorkflowChange, signalAfterCommit } from './signals.js';
import { endWorkflow } from './sql/end-workflow.js';
import { lockWorkflows } from './sql/lock-workflows.js';
import { appendEvents } from './sql/append-events.js';
import { deleteUnstartedSteps } from './sql/delete-unstarted.js';
import { insertSteps } from './sql/insert-steps.js';
import { readyWaitingSteps } from './sql/start-steps.js';
import { estimateInputs, numberedSteps } from './steps.js';

/** A replan needs the planner (not the plan rate limit: the worker's replans are not a user's). */
export interface ReplanDeps extends AdvanceDeps {
  workflows: WorkflowSettings;
  llm: Pick<LlmGateway, 'planner' | 'catalog'>;
  topicSettings: Pick<TopicSettings, 'planBudgetMs'>;
}

export interface ReplanRequest {
  hint: string | null;
  /** The replan a REPLAN failure asked for: its task, cleared from the workflow as it lands. */
  replanTaskId?: string;
  /** replanWorkflow's caller's key (its budgets apply); unset: the key that started the workflow. */
  apiKeyId?: string | null;
}

/**
 * The replan's calls are metered against the workflow (and the replan's task), under the key
 * that asked for it by hand or else the one that started it (its budgets apply, as to steps').
 */
function planWith(
  workflow: Workflow,
  context: ReplanContext,
  request: ReplanRequest,
  deps: ReplanDeps,
): Promise<WorkflowPlanOutcome> {
  const settings = {
    chat: workflow.planner === 'local' ? undefined : deps.llm.planner,
    budgetMs: deps.topicSettings.planBudgetMs,
    call: {
      teamId: workflow.teamId,
      apiKeyId: request.apiKeyId === undefined ? workflow.apiKeyId : request.apiKeyId,
      workflowId: workflow.id,
      taskId: request.replanTaskId ?? null,
    },
    limits: {
      maxSteps: deps.workflows.maxSteps,
      agentIds: new Set(context.agents.map((agent) => agent.id)),
    },
    onFallback: (planner: string, reason: string) =>
      logger.warn(
        { planner, reason, workflowId: workflow.id },
        'LLM replanner fell back to the local planner',
      ),
  };
  return workflow.status === 'PLANNED'
    ? makeWorkflowPlan(context, settings)
    : makeWorkflowReplan(context, settings);
}

/** Computes the new tail, then swaps it in under the row lock; false when the workflow moved on meanwhile. */
export async function replan(
  workflow: Workflow,
  request: ReplanRequest,
  deps: ReplanDeps,
): Promise<boolean> {
  const context = await replanContext(workflow, request.hint);
  const outcome = await planWith(workflow, context, request, deps);
  const inputs = await estimateInputs(deps.workflows, {
    llm: deps.llm,
    teamId: workflow.teamId,
  });
  return inTransaction((tx) =>
    swapTail(tx, workflow, outcome, request, { deps, inputs, agents: context.agents }),
  );
}

interface SwapContext {
  deps: ReplanDeps;
  inputs: Awaited<ReturnType<typeof estimateInputs>>;
  agents: Array<{ id: string }>;
}

/** The new plan version, claimed only if nothing moved since the replan read the workflow. */
async function claimVersion(
  tx: Transaction,
  workflow: Workflow,
  outcome: WorkflowPlanOutcome,
  request: ReplanRequest,
): Promise<boolean> {
  const { count } = await tx.client.workflow.updateMany({
    where: {
      id: workflow.id,
      planVersion: workflow.planVersion,
      status: workflow.status,
      // A replan by hand does not take the place of a step's REPLAN requested meanwhile.
      replanTaskId: request.replanTaskId ?? null,
    },
    data: {
      planVersion: { increment: 1 },
      replanTaskId: null,
      planner: outcome.planner,
      fellBack: outcome.fellBack,
    },
  });
  return count > 0;
}

const ENDED_STEP: ReadonlySet<string> = new Set(['SUCCEEDED', 'SKIPPED', 'FAILED', 'CANCELLED']);

/** Replaces the steps not started by the tail (checked with what ran); the tail's size. */
async function replaceTail(
  tx: Transaction,
  workflowId: string,
  outcome: WorkflowPlanOutcome,
  { deps, inputs, agents }: SwapContext,
): Promise<number> {
  await deleteUnstartedSteps(tx.client, workflowId);
  const kept = await tx.client.workflowStep.findMany({
    where: { workflowId },
    orderBy: { position: 'asc' },
  });
  const keptKeys = new Set(kept.map((step) => step.key));
  const tail = outcome.steps.filter((step) => !keptKeys.has(step.key));
  const all = [...kept.map(plannedOf), ...tail];
  const agentIds = new Set([
    ...agents.map((agent) => agent.id),
    ...kept.flatMap((step) => step.agentId ?? []),
  ]);
  const checked = checkPlan(all, { maxSteps: deps.workflows.maxSteps, agentIds, ran: keptKeys });
  if ('problem' in checked) throw planRefused(checked.problem);
  const estimate = estimatePlan(all, checked.order, inputs);
  // Kept steps that ended, well or not: the tail does not wait on them (a failed one is a
  // failed input of its dependents, as under SKIP).
  const over = new Set(kept.filter((step) => ENDED_STEP.has(step.status)).map((step) => step.key));
  const firstPosition = kept.reduce((max, step) => Math.max(max, step.position + 1), 0);
  await insertSteps(
    tx.client,
    workflowId,
    numberedSteps(tail, estimate.perStep, over, firstPosition),
  );
  return tail.length;
}

async function swapTail(
  tx: Transaction,
  workflow: Workflow,
  outcome: WorkflowPlanOutcome,
  request: ReplanRequest,
  context: SwapContext,
): Promise<boolean> {
  if (!(await claimVersion(tx, workflow, outcome, request))) return false;
  const steps = await replaceTail(tx, workflow.id, outcome, context);
  const signals = noSignals();
  const by = `${outcome.planner}${outcome.fellBack ? ' (fell back to local)' : ''}`;
  const message = `replanned by ${by}: ${steps} steps to run`;
  noteLogs(
    signals,
    await appendEvents(tx.client, [
      {
        workflowId: workflow.id,
        kind: 'PLAN',
        stepKey: null,
        status: workflow.status,
        progressPercent: 0,
        message,
      },
    ]),
  );
  if (workflow.status !== 'RUNNING') {
    signalAfterCommit(tx, context.deps.pubsub, signals);
    return true;
  }
  noteLogs(signals, await readyWaitingSteps(tx.client, workflow.id));
  await advanceWorkflows(tx, [workflow.id], signals, context.deps);
  return true;
}

/**
 * A replan's task ended other than COMPLETED: the workflow it was to carry on fails, unless it
 * has moved on (another replan, or an end of its own).
 */
export async function failWorkflowOfReplan(task: ClaimedTaskRow, pubsub: PubSub): Promise<void> {
  const { workflowId } = task.payload as { workflowId: string };
  await inTransaction(async (tx) => {
    const message = `its replan ended ${task.status}${task.error ? `: ${task.error}` : ''}`.slice(
      0,
      2_000,
    );
    await lockWorkflows(tx.client, [workflowId]);
    const current = await tx.client.workflow.findUnique({
      where: { id: workflowId },
      select: { replanTaskId: true },
    });
    if (current?.replanTaskId !== task.id) return;
    const ended = await endWorkflow(tx.client, workflowId, {
      from: ['RUNNING'],
      to: 'FAILED',
      message,
      error: message,
    });
    const signals = noSignals();
    noteWorkflowChange(signals, workflowId, ended);
    signalAfterCommit(tx, pubsub, signals);
  });
}

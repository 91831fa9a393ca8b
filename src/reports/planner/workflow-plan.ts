// Planning a workflow with a budget: the LLM planner when one is configured, its plan checked
// like any other; a late, failed or invalid one gives way to the local plan (fellBack).
import { LocalProviderChosen, type ChatClient, type LlmCallScope } from '../writers/types.js';
import { planAttemptTimeoutMs } from './attempt-timeout.js';
import { planBudget } from './budget.js';
import type { PlannerName } from './types.js';
import { checkPlan, type PlanLimits } from './workflow-check.js';
import { planWorkflowWithLlm } from './workflow-llm.js';
import { planWorkflowLocally, replanWorkflowLocally } from './workflow-local.js';
import type { PlannedStep, ReplanContext, WorkflowPlanContext } from './workflow-types.js';

export interface WorkflowPlannerSettings {
  /** Unset: the local planner only. */
  chat?: ChatClient;
  budgetMs: number;
  limits: PlanLimits;
  /** Told why the LLM planner's plan was not used. */
  onFallback?: (planner: string, reason: string) => void;
  /** Whom the plan is for (a routed planner's team, key and budgets). */
  call?: LlmCallScope;
  /** The caller's request: once it is abandoned, the LLM planner stops and no plan is made. */
  signal?: AbortSignal;
}

export interface WorkflowPlanOutcome {
  steps: PlannedStep[];
  planner: PlannerName;
  fellBack: boolean;
}

async function withFallback(
  settings: WorkflowPlannerSettings,
  llm: (
    chat: ChatClient,
    signal: AbortSignal,
  ) => Promise<{ steps: PlannedStep[]; planner: PlannerName }>,
  check: (steps: PlannedStep[]) => string | undefined,
  local: () => PlannedStep[],
): Promise<WorkflowPlanOutcome> {
  if (!settings.chat) return { steps: local(), planner: 'local', fellBack: false };
  const { budget, signal, throwIfCallerGone } = planBudget(settings.budgetMs, settings.signal);
  try {
    const { steps, planner } = await llm(settings.chat, signal);
    const problem = check(steps);
    if (problem) throw new Error(`invalid plan: ${problem}`);
    return { steps, planner, fellBack: false };
  } catch (error) {
    throwIfCallerGone();
    // The route says local (a LOCAL deployment, or its fallback once every LLM failed).
    if (error instanceof LocalProviderChosen) {
      if (error.fellBack) settings.onFallback?.(settings.chat.name, error.message);
      const steps = local();
      error.metered?.(JSON.stringify({ steps }));
      return { steps, planner: 'local', fellBack: error.fellBack };
    }
    const reason = budget.aborted
      ? `missed the ${settings.budgetMs} ms budget`
      : (error as Error).message;
    settings.onFallback?.(settings.chat.name, reason);
    return { steps: local(), planner: 'local', fellBack: true };
  }
}

const problemOf = (steps: PlannedStep[], limits: PlanLimits) => {
  const checked = checkPlan(steps, limits);
  return 'problem' in checked ? checked.problem.message : undefined;
};

export function makeWorkflowPlan(
  context: WorkflowPlanContext,
  settings: WorkflowPlannerSettings,
): Promise<WorkflowPlanOutcome> {
  return withFallback(
    settings,
    (chat, signal) =>
      planWorkflowWithLlm(chat, context, signal, {
        call: settings.call,
        attemptTimeoutMs: planAttemptTimeoutMs(settings.budgetMs),
      }),
    (steps) => problemOf(steps, settings.limits),
    () => planWorkflowLocally(context),
  );
}

/** A new tail for the steps not yet started; checked together with the steps that were. */
export function makeWorkflowReplan(
  context: ReplanContext,
  settings: WorkflowPlannerSettings,
): Promise<WorkflowPlanOutcome> {
  const started = context.steps.filter((each) => each.started).map((each) => each.step);
  return withFallback(
    settings,
    (chat, signal) =>
      planWorkflowWithLlm(chat, context, signal, {
        replan: context,
        call: settings.call,
        attemptTimeoutMs: planAttemptTimeoutMs(settings.budgetMs),
      }),
    (tail) =>
      problemOf([...started, ...tail], {
        ...settings.limits,
        ran: new Set(started.map((step) => step.key)),
      }),
    () => replanWorkflowLocally(context),
  );
}

// Planning a workflow with a budget: the LLM planner when one is configured, its plan checked
// like any other; a late, failed or invalid one gives way to the local plan (fellBack).
import type { ChatClient } from '../providers/types.js';
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
}

export interface WorkflowPlanOutcome {
  steps: PlannedStep[];
  planner: PlannerName;
  fellBack: boolean;
}

async function withFallback(
  settings: WorkflowPlannerSettings,
  llm: (chat: ChatClient, signal: AbortSignal) => Promise<PlannedStep[]>,
  check: (steps: PlannedStep[]) => string | undefined,
  local: () => PlannedStep[],
): Promise<WorkflowPlanOutcome> {
  if (!settings.chat) return { steps: local(), planner: 'local', fellBack: false };
  const budget = AbortSignal.timeout(settings.budgetMs);
  try {
    const steps = await llm(settings.chat, budget);
    const problem = check(steps);
    if (problem) throw new Error(`invalid plan: ${problem}`);
    return { steps, planner: settings.chat.name, fellBack: false };
  } catch (error) {
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
    (chat, signal) => planWorkflowWithLlm(chat, context, signal),
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
    (chat, signal) => planWorkflowWithLlm(chat, context, signal, context),
    (tail) =>
      problemOf([...started, ...tail], {
        ...settings.limits,
        ran: new Set(started.map((step) => step.key)),
      }),
    () => replanWorkflowLocally(context),
  );
}

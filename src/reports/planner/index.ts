// Planning with a budget (the plan answers within 2 s): an LLM planner when
// one is configured, abandoned for the local planner when it is late or fails.
import { LocalProviderChosen, type ChatClient, type LlmCallScope } from '../writers/types.js';
import { planAttemptTimeoutMs } from './attempt-timeout.js';
import { planBudget } from './budget.js';
import { planWithLlm } from './llm.js';
import { planLocally } from './local.js';
import type { PlanContext, PlanOutcome } from './types.js';

export { planLocally } from './local.js';
export { sectionsFromPlan } from './markdown.js';
export * from './types.js';

export interface PlannerSettings {
  /** Unset: the local planner only. */
  chat?: ChatClient;
  budgetMs: number;
  /** Told when the LLM planner missed the budget or failed and the local plan was used instead. */
  onFallback?: (planner: string, reason: string) => void;
  /** Whom the plan is for (a routed planner's team, key and budgets). */
  call?: LlmCallScope;
  /** The caller's request: once it is abandoned, the LLM planner stops and no plan is made. */
  signal?: AbortSignal;
}

export async function makePlan(
  context: PlanContext,
  settings: PlannerSettings,
): Promise<PlanOutcome> {
  if (!settings.chat) return { ...planLocally(context), planner: 'local', fellBack: false };
  const { budget, signal, throwIfCallerGone } = planBudget(settings.budgetMs, settings.signal);
  try {
    const plan = await planWithLlm(
      settings.chat,
      context,
      signal,
      settings.call,
      planAttemptTimeoutMs(settings.budgetMs),
    );
    return { ...plan, fellBack: false };
  } catch (error) {
    throwIfCallerGone();
    // The route says local (a LOCAL deployment, or its fallback once every LLM failed).
    if (error instanceof LocalProviderChosen) {
      if (error.fellBack) settings.onFallback?.(settings.chat.name, error.message);
      const plan = planLocally(context);
      error.metered?.(plan.plan);
      return { ...plan, planner: 'local', fellBack: error.fellBack };
    }
    const reason = budget.aborted
      ? `missed the ${settings.budgetMs} ms budget`
      : (error as Error).message;
    settings.onFallback?.(settings.chat.name, reason);
    return { ...planLocally(context), planner: 'local', fellBack: true };
  }
}

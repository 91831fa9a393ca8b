// Planning with a budget (seed 004: the plan answers within 2 s): an LLM planner when
// one is configured, abandoned for the local planner when it is late or fails.
import type { ChatClient } from '../providers/types.js';
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
}

export async function makePlan(
  context: PlanContext,
  settings: PlannerSettings,
): Promise<PlanOutcome> {
  if (!settings.chat) return { ...planLocally(context), planner: 'local', fellBack: false };
  const budget = AbortSignal.timeout(settings.budgetMs);
  try {
    const plan = await planWithLlm(settings.chat, context, budget);
    return { ...plan, planner: settings.chat.name, fellBack: false };
  } catch (error) {
    const reason = budget.aborted
      ? `missed the ${settings.budgetMs} ms budget`
      : (error as Error).message;
    settings.onFallback?.(settings.chat.name, reason);
    return { ...planLocally(context), planner: 'local', fellBack: true };
  }
}

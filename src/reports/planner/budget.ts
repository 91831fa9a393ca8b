// A plan's two ends: its budget (LLM_PLAN_BUDGET_MS), past which the local planner answers
// instead, and its caller, whose going away (a client that disconnected) stops the LLM attempt
// at once: the provider is told (the attempt is metered ABORTED), and no plan is made.

export interface PlanBudget {
  /** Aborts at the budget's end. */
  budget: AbortSignal;
  /** What the LLM planner is given: the budget's end or the caller's going away. */
  signal: AbortSignal;
  /** Throws the caller's abort once the caller is gone (then no fallback plan is made). */
  throwIfCallerGone(): void;
}

export function planBudget(budgetMs: number, caller?: AbortSignal): PlanBudget {
  const budget = AbortSignal.timeout(budgetMs);
  return {
    budget,
    signal: caller ? AbortSignal.any([budget, caller]) : budget,
    throwIfCallerGone: () => caller?.throwIfAborted(),
  };
}

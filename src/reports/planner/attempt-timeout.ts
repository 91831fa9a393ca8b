// How long one attempt of an LLM plan may stay silent: half the plan's budget, so that a
// deployment that hangs leaves the next one of the route time to answer within it.
export const planAttemptTimeoutMs = (budgetMs: number) => Math.max(100, Math.floor(budgetMs / 2));

// Before work that will call the LLM (generateTopicReport): when the team's and key's
// budgets leave no deployment of the service's route usable, the request is refused at once
// (RATE_LIMITED, BUDGET_EXCEEDED) rather than queued to fail.
import type { LlmService } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import type { LlmCallScope } from '../../reports/providers/index.js';
import { budgetExceededError, budgetsFor, budgetState } from './budgets.js';
import type { LlmPlatform } from './platform.js';
import { costUsd } from './ranking.js';
import { TYPICAL_TOKENS } from './snapshot.js';

export async function requireBudgetFor(
  service: LlmService,
  scope: LlmCallScope,
  llm: Pick<LlmPlatform, 'catalog'>,
): Promise<void> {
  const view = await llm.catalog.view(scope.teamId);
  const route = view.routes.get(service)!;
  const budgetIds = budgetsFor(view.budgets, scope.apiKeyId).map((budget) => budget.id);
  if (route.fallbackToLocal || budgetIds.length === 0) return;
  const costs = route.deploymentIds.flatMap((id) => {
    const deployment = view.deployments.get(id);
    return deployment ? [costUsd(deployment, TYPICAL_TOKENS[service]) ?? 0] : [];
  });
  if (costs.some((cost) => cost === 0)) return;
  const rows = await db().llmBudget.findMany({ where: { id: { in: budgetIds } } });
  const remaining = Math.min(...rows.map((row) => budgetState(row).remainingUsd));
  // Not even the cheapest deployment's typical call fits.
  if (costs.every((cost) => cost > remaining)) throw await budgetExceededError(budgetIds);
}

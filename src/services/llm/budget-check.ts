// Before work that will call the LLM (generateTopicReport, a workflow that writes sections):
// when every deployment of the service's route is out for good (deleted, its key revoked,
// expired, rejected or unreadable here) and the route does not fall back to local, the request
// is refused at once (CONFLICT, NO_USABLE_DEPLOYMENT, naming each deployment and why); so it is
// when the team's and key's budgets leave no deployment usable (RATE_LIMITED, BUDGET_EXCEEDED),
// rather than queued to fail.
import type { LlmService } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { conflict } from '../../platform/errors.js';
import { publicId } from '../../platform/public-ids.js';
import type { LlmCallScope } from '../../reports/writers/types.js';
import { budgetExceededError, budgetsFor, budgetState } from '../../llm/budget-reservations.js';
import type { LlmGateway } from '../../llm/gateway.js';
import { keyReadable } from '../../llm/key-readable.js';
import { costUsd, exclusionOf } from '../../llm/ranking.js';
import { TYPICAL_TOKENS } from './snapshot.js';

export async function requireUsableRoute(
  service: LlmService,
  scope: LlmCallScope,
  llm: Pick<LlmGateway, 'catalog' | 'keyring'>,
): Promise<void> {
  const view = await llm.catalog.view(scope.teamId);
  const route = view.routes.get(service)!;
  // Local answers whatever is left: nothing to refuse.
  if (route.fallbackToLocal) return;
  // A cooldown passes: only what stays out until someone acts counts here.
  const noCooldowns = { until: () => undefined };
  const readable = keyReadable(llm.keyring);
  const excluded = route.deploymentIds.map((id) =>
    exclusionOf(view.deployments.get(id), noCooldowns, Date.now(), readable),
  );
  if (excluded.every((reason) => reason !== null))
    throw conflict(
      `no deployment of the ${service} route can be used ` +
        `(${excluded.join(', ') || 'none named'}), and it does not fall back to local`,
      {
        reason: 'NO_USABLE_DEPLOYMENT',
        service,
        excluded,
        // The same, each with its deployment: which one to fix (a key to rotate, one to replace).
        deployments: route.deploymentIds.map((id, i) => ({
          id: publicId('LlmDeployment', id),
          reason: excluded[i],
        })),
      },
    );
  const budgetIds = budgetsFor(view.budgets, scope.apiKeyId).map((budget) => budget.id);
  if (budgetIds.length === 0) return;
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

// A budget past its soft limit as a webhook: budget.threshold to its team's subscribed
// endpoints. The settle that takes the spend past the threshold reports it, once (its
// statement compares the spend before and after), and a new window starts from nothing, so
// it fires once per crossing per period. Never awaited on the call's path.
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { publicId } from '../../platform/public-ids.js';
import type { SoftLimitCrossing } from '../../llm/sql/settle-budget.js';
import { emitWebhookEvent, type EmitDeps } from '../webhooks/emit.js';

export async function emitBudgetThreshold(
  crossing: SoftLimitCrossing,
  deps: Omit<EmitDeps, 'tx'>,
): Promise<void> {
  try {
    const [budget, owner] = await Promise.all([
      db().llmBudget.findUnique({
        where: { id: crossing.id },
        select: { period: true, windowStart: true },
      }),
      db().teamMember.findFirst({
        where: { teamId: crossing.teamId, role: 'OWNER' },
        select: { userId: true },
      }),
    ]);
    if (!owner) return;
    await emitWebhookEvent(
      {
        type: 'budget.threshold',
        teamId: crossing.teamId,
        // The deliveries are the team's: its owner's, as the team's own work is.
        ownerId: owner.userId,
        data: {
          budgetId: publicId('Budget', crossing.id),
          scope: crossing.scope,
          teamId: publicId('Team', crossing.teamId),
          apiKeyId: crossing.apiKeyId ? publicId('ApiKey', crossing.apiKeyId) : null,
          limitUsd: crossing.limitUsd,
          softLimitPercent: crossing.softLimitPercent,
          spentUsd: crossing.spentUsd,
          period: budget?.period ?? null,
          windowStart: budget?.windowStart.toISOString() ?? null,
        },
      },
      {},
      deps,
    );
  } catch (error) {
    logger.warn({ err: error, budgetId: crossing.id }, 'budget.threshold not emitted');
  }
}

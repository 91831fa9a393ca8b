// Setting budgets per team and per API key: a limit in USD over a DAY, WEEK, MONTH (UTC) or in
// TOTAL, with a soft threshold. The gateway reserves and settles calls against them
// (src/llm/budget-reservations.ts).
import type { BudgetPeriod, BudgetScope } from '../../generated/prisma/enums.js';
import { announceLlmConfigChanged } from '../../llm/catalog.js';
import { windowStartOf } from '../../llm/budget-reservations.js';

/** A budget's figures as they stand now (the gateway's window arithmetic). */
export { budgetState } from '../../llm/budget-reservations.js';
import { MAX_USD } from '../../llm/limits.js';
import { db, inTransaction, type Transaction } from '../../platform/db.js';
import { BadInputError, notFound } from '../../platform/errors.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds, requireAdminister } from '../auth/permissions.js';
import { apiKeyVisibleTo } from '../auth/visibility.js';

export interface SetBudgetInput {
  scope: BudgetScope;
  /** A team's or an API key's row id. */
  targetId: string;
  limitUsd: number;
  period: BudgetPeriod;
  softLimitPercent?: number | null;
}

function checkInput(input: SetBudgetInput): number {
  if (!Number.isFinite(input.limitUsd) || input.limitUsd < 0 || input.limitUsd > MAX_USD)
    throw new BadInputError(`limitUsd must be a number from 0 to ${MAX_USD}`, {}, 'limitUsd');
  const soft = input.softLimitPercent ?? 80;
  if (!Number.isInteger(soft) || soft < 1 || soft > 100)
    throw new BadInputError(
      'softLimitPercent must be an integer from 1 to 100',
      {},
      'softLimitPercent',
    );
  return soft;
}

/** The team a budget target belongs to, for a caller who administers it (NOT_FOUND otherwise). */
async function targetTeam(input: SetBudgetInput, caller: Caller): Promise<string> {
  if (input.scope === 'TEAM') {
    requireAdminister(caller, input.targetId);
    return input.targetId;
  }
  const key = await db().apiKey.findFirst({
    where: { AND: [{ id: input.targetId }, apiKeyVisibleTo(caller)] },
    select: { teamId: true },
  });
  if (!key) throw notFound('ApiKey');
  requireAdminister(caller, key.teamId);
  return key.teamId;
}

/**
 * What the budget's scope (the team, or the key) has spent since `since`: a budget set, or
 * moved to another period, counts the calls its window already holds.
 */
async function spentSince(
  client: Transaction['client'],
  scope: { teamId: string; apiKeyId: string | null },
  since: Date,
) {
  const { _sum } = await client.llmCall.aggregate({
    _sum: { costUsd: true },
    where: {
      ...(scope.apiKeyId ? { apiKeyId: scope.apiKeyId } : { teamId: scope.teamId }),
      createdAt: { gte: since },
    },
  });
  return Number((_sum.costUsd ?? 0).toFixed(6));
}

export async function setBudget(input: SetBudgetInput, caller: Caller, pubsub: PubSub) {
  const softLimitPercent = checkInput(input);
  const teamId = await targetTeam(input, caller);
  const apiKeyId = input.scope === 'API_KEY' ? input.targetId : null;
  const values = { limitUsd: input.limitUsd, period: input.period, softLimitPercent };
  const budget = await inTransaction(async ({ client }) => {
    const existing = await client.llmBudget.findFirst({
      where: input.scope === 'TEAM' ? { scope: 'TEAM', teamId } : { apiKeyId },
    });
    const windowStart = windowStartOf(input.period);
    if (!existing)
      return client.llmBudget.create({
        data: {
          ...values,
          scope: input.scope,
          teamId,
          apiKeyId,
          windowStart,
          spentUsd: await spentSince(client, { teamId, apiKeyId }, windowStart),
        },
      });
    // A new period is a new window, holding what was spent in it; the same one keeps its count.
    if (existing.period === input.period)
      return client.llmBudget.update({ where: { id: existing.id }, data: values });
    const spentUsd = await spentSince(client, { teamId, apiKeyId }, windowStart);
    return client.llmBudget.update({
      where: { id: existing.id },
      data: { ...values, windowStart, spentUsd, reservedUsd: 0 },
    });
  });
  await announceLlmConfigChanged(pubsub, teamId);
  return budget;
}

export function listBudgets(caller: Caller) {
  const teams = readableTeamIds(caller);
  return db().llmBudget.findMany({
    where: teams ? { teamId: { in: teams } } : {},
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: 1_000,
  });
}

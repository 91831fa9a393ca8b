// Budgets per team and API key.
import { roundUsd } from '../../platform/money.js';
import type { LlmBudget } from '../../generated/prisma/client.js';
import { budgetState, listBudgets, setBudget } from '../../services/llm/budgets.js';
import { builder } from '../builder.js';
import { rowIdOrNone, toGlobalId } from '../ids.js';
import { thenForget } from './mutations.js';

const BudgetScopeEnum = builder.enumType('BudgetScope', { values: ['TEAM', 'API_KEY'] as const });
const BudgetPeriodEnum = builder.enumType('BudgetPeriod', {
  values: ['DAY', 'WEEK', 'MONTH', 'TOTAL'] as const,
  description:
    'Windows start at 00:00 UTC (weeks on Monday, months on the 1st); TOTAL never resets.',
});

const Budget = builder.objectRef<LlmBudget>('Budget').implement({
  fields: (t) => ({
    id: t.id({ resolve: (b) => toGlobalId('Budget', b.id) }),
    scope: t.field({ type: BudgetScopeEnum, resolve: (b) => b.scope }),
    targetId: t.id({
      resolve: (b) =>
        b.scope === 'TEAM' ? toGlobalId('Team', b.teamId) : toGlobalId('ApiKey', b.apiKeyId!),
    }),
    limitUsd: t.exposeFloat('limitUsd'),
    period: t.field({ type: BudgetPeriodEnum, resolve: (b) => b.period }),
    softLimitPercent: t.exposeInt('softLimitPercent'),
    spentUsd: t.float({
      description: 'Settled spend of the current window.',
      resolve: (b) => roundUsd(budgetState(b).spentUsd),
    }),
    reservedUsd: t.float({
      description: 'Worst-case cost of the calls under way.',
      resolve: (b) => roundUsd(budgetState(b).reservedUsd),
    }),
    softLimitReached: t.boolean({ resolve: (b) => budgetState(b).softLimitReached }),
    resetsAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (b) => budgetState(b).resetsAt,
    }),
  }),
});

const SetBudgetInput = builder.inputType('SetBudgetInput', {
  fields: (t) => ({
    scope: t.field({ type: BudgetScopeEnum, required: true }),
    targetId: t.id({
      required: true,
      description: "A team's id (TEAM) or an API key's (API_KEY), of a team you administer.",
    }),
    limitUsd: t.float({ required: true, description: '0 to 1,000,000,000.' }),
    period: t.field({ type: BudgetPeriodEnum, required: true }),
    softLimitPercent: t.int({
      description: '1-100 (default 80): past it the budget says softLimitReached.',
    }),
  }),
});

builder.mutationField('setBudget', (t) =>
  t.field({
    type: Budget,
    description:
      'Sets the budget of a team or API key (one each; a new period starts a new window). ' +
      'Past the limit priced deployments are skipped; with none left a call is RATE_LIMITED ' +
      '(reason BUDGET_EXCEEDED).',
    authScopes: { read: true },
    args: { input: t.arg({ type: SetBudgetInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      thenForget(
        ctx,
        setBudget(
          {
            ...input,
            targetId: rowIdOrNone(input.scope === 'TEAM' ? 'Team' : 'ApiKey', input.targetId),
          },
          ctx.caller,
          ctx.pubsub,
        ),
      ),
  }),
);

builder.queryField('budgets', (t) =>
  t.field({
    type: [Budget],
    description: "The budgets of the caller's teams and their keys (the operator: all).",
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => listBudgets(ctx.caller),
  }),
);

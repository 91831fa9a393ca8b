// A call's budgets, as the gateway keeps them: each team's and key's windows (UTC DAY, WEEK,
// MONTH or TOTAL), the worst-case cost a priced call reserves on every budget that applies
// before it starts (sql/reserve-budget.ts, atomic), and its real cost settled after; a call
// that does not fit is refused on that deployment. Setting budgets is a service
// (src/services/llm/budgets.ts).
import type { BudgetPeriod } from '../generated/prisma/enums.js';
import { db, inTransaction } from '../platform/db.js';
import { RateLimitedError } from '../platform/errors.js';
import { logger } from '../platform/logger.js';
import type { BudgetEntry } from './catalog.js';
import { expireReservations } from './sql/expire-reservations.js';
import { reserveBudgets, type Reserved } from './sql/reserve-budget.js';
import { settleBudgets, type SoftLimitCrossing } from './sql/settle-budget.js';

const PERIOD_MS: Record<BudgetPeriod, (start: Date) => Date | null> = {
  DAY: (start) => new Date(start.getTime() + 86_400_000),
  WEEK: (start) => new Date(start.getTime() + 7 * 86_400_000),
  MONTH: (start) => new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)),
  TOTAL: () => null,
};

/** The window `at` falls in, as llm_budget_window_start computes it (UTC). */
export function windowStartOf(period: BudgetPeriod, at = new Date()): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  if (period === 'DAY') return new Date(Date.UTC(y, m, d));
  if (period === 'WEEK') return new Date(Date.UTC(y, m, d - ((at.getUTCDay() + 6) % 7)));
  if (period === 'MONTH') return new Date(Date.UTC(y, m, 1));
  return new Date(0);
}

export const resetsAtOf = (period: BudgetPeriod, at = new Date()) =>
  PERIOD_MS[period](windowStartOf(period, at));

/** A budget as it stands now: a window that has ended counts as empty. */
export function budgetState(row: {
  period: BudgetPeriod;
  windowStart: Date;
  spentUsd: number;
  reservedUsd: number;
  limitUsd: number;
  softLimitPercent: number;
}) {
  // A window only moves forward: one the database started a moment ahead of this clock is current.
  const current = row.windowStart.getTime() >= windowStartOf(row.period).getTime();
  const spentUsd = current ? row.spentUsd : 0;
  const reservedUsd = current ? row.reservedUsd : 0;
  return {
    spentUsd,
    reservedUsd,
    resetsAt: resetsAtOf(row.period),
    softLimitReached: spentUsd >= (row.limitUsd * row.softLimitPercent) / 100,
    exceeded: spentUsd + reservedUsd >= row.limitUsd,
    /** What a call may still reserve. */
    remainingUsd: row.limitUsd - spentUsd - reservedUsd,
  };
}

/** The budgets a call of this team and key counts against. */
export const budgetsFor = (budgets: BudgetEntry[], apiKeyId: string | null) =>
  budgets.filter((b) => b.scope === 'TEAM' || (apiKeyId !== null && b.apiKeyId === apiKeyId));

/**
 * How long a reservation holds without being settled: longer than any call runs (the writer's
 * longest section streams for minutes), short enough that a dead process's reservations come
 * back within the hour as spend.
 */
export const RESERVATION_TTL_MS = 15 * 60_000;

class NotReserved extends Error {}

/** Reserves `costUsd` on every budget, or on none (undefined). */
export async function reserve(
  budgetIds: string[],
  costUsd: number,
): Promise<Reserved[] | undefined> {
  if (budgetIds.length === 0) return [];
  try {
    return await inTransaction(async ({ client }) => {
      const reserved = await reserveBudgets(client, budgetIds, costUsd, RESERVATION_TTL_MS);
      if (reserved.length < budgetIds.length) throw new NotReserved();
      return reserved;
    });
  } catch (error) {
    if (error instanceof NotReserved) return undefined;
    throw error;
  }
}

/**
 * Settles a call's reservations with its real cost; retried a few times (a settle applies
 * once), never awaited on the token path. One never settled expires into spend.
 */
export function settle(
  reserved: Reserved[],
  actualUsd: number,
  onSoftLimit?: (crossing: SoftLimitCrossing) => void,
): void {
  if (reserved.length === 0) return;
  const ids = reserved.map((each) => each.reservationId);
  const attempt = (left: number): Promise<void> =>
    settleBudgets(db(), ids, actualUsd).then(
      (crossings) => crossings.forEach((crossing) => softLimitPassed(crossing, onSoftLimit)),
      (error: unknown) => {
        if (left <= 0) {
          logger.error(
            { err: error },
            'LLM budget settle failed; the reservation counts as spent when it expires',
          );
          return;
        }
        return new Promise((r) => setTimeout(r, 500)).then(() => attempt(left - 1));
      },
    );
  void attempt(5);
}

/**
 * A budget past its soft threshold says so once, when a call's cost takes it there: a warning
 * in the log (whose budget, its figures) and llm_budget_soft_limit_crossings_total on /metrics,
 * for an alert; `softLimitReached` on the budget stays true until its window resets.
 */
function softLimitPassed(
  crossing: SoftLimitCrossing,
  onSoftLimit: ((crossing: SoftLimitCrossing) => void) | undefined,
): void {
  logger.warn(
    {
      budgetId: crossing.id,
      scope: crossing.scope,
      teamId: crossing.teamId,
      apiKeyId: crossing.apiKeyId,
      limitUsd: crossing.limitUsd,
      softLimitPercent: crossing.softLimitPercent,
      spentUsd: crossing.spentUsd,
    },
    'LLM budget passed its soft limit',
  );
  onSoftLimit?.(crossing);
}

/** Reservations their process never settled (it died), counted as spent; how many. */
export function expireBudgetReservations(): Promise<number> {
  return expireReservations(db());
}

/** RATE_LIMITED, reason BUDGET_EXCEEDED, with the tightest budget's figures. */
export async function budgetExceededError(budgetIds: string[]): Promise<RateLimitedError> {
  const rows = await db().llmBudget.findMany({ where: { id: { in: budgetIds } } });
  const states = rows.map((row) => ({ row, state: budgetState(row) }));
  states.sort(
    (a, b) =>
      b.state.spentUsd +
      b.state.reservedUsd -
      b.row.limitUsd -
      (a.state.spentUsd + a.state.reservedUsd - a.row.limitUsd),
  );
  const worst = states[0];
  const resetsAt = worst?.state.resetsAt ?? null;
  const retryAfter = resetsAt
    ? Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000))
    : 86_400;
  return new RateLimitedError(
    'LLM budget exceeded: no deployment this call may use is left',
    retryAfter,
    {
      reason: 'BUDGET_EXCEEDED',
      limitUsd: worst?.row.limitUsd ?? 0,
      spentUsd: worst ? Number((worst.state.spentUsd + worst.state.reservedUsd).toFixed(6)) : 0,
      resetsAt: resetsAt?.toISOString() ?? null,
    },
  );
}

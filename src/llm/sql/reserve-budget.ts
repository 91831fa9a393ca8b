// A call's worst-case cost reserved on every budget that applies to it, in one statement:
// each row is updated only if its window's spend and reservations plus this one stay within
// its limit (PostgreSQL re-checks the condition on the newest row version after waiting for
// its lock, so concurrent reservations queue on the row and none overshoots). A window that
// has ended starts over; a window only moves forward (a call whose transaction began before
// midnight, queued behind one that began after it, counts in the new day rather than
// resetting it). Each reservation is also a row (its window, period and amount, and when it
// expires) that settling deletes. The caller's transaction rolls back when fewer rows than
// budgets came back, releasing the others.
import type { Queryable } from '../../platform/db.js';

export interface Reserved {
  /** The budget's. */
  id: string;
  /** The reservation's row (it holds the window, period and amount settling needs). */
  reservationId: string;
}

export function reserveBudgets(
  client: Queryable,
  budgetIds: string[],
  costUsd: number,
  ttlMs: number,
): Promise<Reserved[]> {
  return client.$queryRaw<Reserved[]>`
    WITH updated AS (
      UPDATE llm_budgets b SET
        "windowStart" = greatest(b."windowStart", llm_budget_window_start(b.period, now())),
        "spentUsd" = CASE WHEN b."windowStart" >= llm_budget_window_start(b.period, now())
                          THEN b."spentUsd" ELSE 0 END,
        "reservedUsd" = CASE WHEN b."windowStart" >= llm_budget_window_start(b.period, now())
                             THEN b."reservedUsd" ELSE 0 END + ${costUsd}::float8,
        "updatedAt" = now()
      WHERE b.id = ANY(${budgetIds}::uuid[])
        AND CASE WHEN b."windowStart" >= llm_budget_window_start(b.period, now())
                 THEN b."spentUsd" + b."reservedUsd" ELSE 0 END + ${costUsd}::float8 <= b."limitUsd"
      RETURNING b.id, b."windowStart", b.period
    ),
    held AS (
      INSERT INTO llm_budget_reservations ("budgetId", "windowStart", period, "amountUsd", "expiresAt")
      SELECT id, "windowStart", period, ${costUsd}::float8, now() + ${ttlMs}::int * interval '1 millisecond'
      FROM updated
      RETURNING id, "budgetId"
    )
    SELECT "budgetId" AS id, id AS "reservationId" FROM held`;
}

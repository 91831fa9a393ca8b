// Reservations past their expiry (their process died before settling them): deleted, and each
// counted as spent in the window it was made in, if that window still runs (its call's cost
// is unknown; its worst case is never less). Grouped per budget and window, so each budget
// row is updated once. Returns how many expired.
import type { Queryable } from '../../platform/db.js';

export async function expireReservations(client: Queryable): Promise<number> {
  const rows = await client.$queryRaw<Array<{ expired: number }>>`
    WITH gone AS (
      DELETE FROM llm_budget_reservations r WHERE r."expiresAt" < now()
      RETURNING r."budgetId", r."windowStart", r.period, r."amountUsd"
    ),
    per_window AS (
      SELECT "budgetId", "windowStart", period, sum("amountUsd") AS amount FROM gone
      GROUP BY "budgetId", "windowStart", period
    ),
    counted AS (
      UPDATE llm_budgets b SET
        "reservedUsd" = GREATEST(0, round((b."reservedUsd" - w.amount)::numeric, 12)::float8),
        "spentUsd" = b."spentUsd" + w.amount,
        "updatedAt" = now()
      FROM per_window w
      WHERE b.id = w."budgetId" AND b."windowStart" = w."windowStart" AND b.period = w.period
      RETURNING b.id
    )
    SELECT (SELECT count(*) FROM gone)::int AS expired`;
  return rows[0]?.expired ?? 0;
}

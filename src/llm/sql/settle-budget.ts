// After the call: its reservations deleted and, for each one deleted here, the budget's
// reservation released (where the window it was made in still runs: the same start and the
// same period, so a period changed meanwhile does not release the new window's reservations)
// and the call's actual cost added to the budget's current window. One statement; a settle
// repeated after it committed finds no reservation and changes nothing. What is left reserved
// is rounded to 1e-12 USD (float sums leave 1.7e-18 where every reservation was released).
import type { Queryable } from '../../platform/db.js';

/** A budget this settle took past its soft threshold (from under it to at or over it). */
export interface SoftLimitCrossing {
  id: string;
  scope: 'TEAM' | 'API_KEY';
  teamId: string;
  apiKeyId: string | null;
  limitUsd: number;
  softLimitPercent: number;
  spentUsd: number;
}

/** Settles; the budgets whose spend this settle took past their soft threshold. */
export function settleBudgets(
  client: Queryable,
  reservationIds: string[],
  actualUsd: number,
): Promise<SoftLimitCrossing[]> {
  return client.$queryRaw<SoftLimitCrossing[]>`
    WITH gone AS (
      DELETE FROM llm_budget_reservations r WHERE r.id = ANY(${reservationIds}::uuid[])
      RETURNING r."budgetId", r."windowStart", r.period, r."amountUsd"
    ),
    settled AS (
      UPDATE llm_budgets b SET
        "reservedUsd" = GREATEST(0, round((b."reservedUsd" -
          CASE WHEN b."windowStart" = g."windowStart" AND b.period = g.period THEN g."amountUsd"
               ELSE 0 END)::numeric, 12)::float8),
        "spentUsd" = b."spentUsd" + ${actualUsd}::float8,
        "updatedAt" = now()
      FROM gone g
      WHERE b.id = g."budgetId"
      RETURNING b.id, b.scope::text AS scope, b."teamId", b."apiKeyId", b."limitUsd", b."softLimitPercent", b."spentUsd"
    )
    SELECT * FROM settled
    WHERE "spentUsd" >= "limitUsd" * "softLimitPercent" / 100.0
      AND "spentUsd" - ${actualUsd}::float8 < "limitUsd" * "softLimitPercent" / 100.0`;
}

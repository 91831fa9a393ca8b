// After the call: its reservation released (where the window it was made in still runs: the
// same start and the same period, so a period changed meanwhile does not release the new
// window's reservations) and its actual cost added to each budget's current window, in one
// statement.
import type { Queryable } from '../../../platform/db.js';
import type { Reserved } from './reserve-budget.js';

export async function settleBudgets(
  client: Queryable,
  reserved: Reserved[],
  reservedUsd: number,
  actualUsd: number,
): Promise<void> {
  await client.$queryRaw`
    UPDATE llm_budgets b SET
      "reservedUsd" = GREATEST(0, b."reservedUsd" -
        CASE WHEN b."windowStart" = r.window_start AND b.period::text = r.period THEN ${reservedUsd}::float8 ELSE 0 END),
      "spentUsd" = b."spentUsd" + ${actualUsd}::float8,
      "updatedAt" = now()
    FROM unnest(${reserved.map((r) => r.id)}::uuid[], ${reserved.map((r) => r.windowStart)}::timestamptz[],
                ${reserved.map((r) => r.period)}::text[])
      AS r(id, window_start, period)
    WHERE b.id = r.id`;
}

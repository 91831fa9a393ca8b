// A call's worst-case cost reserved on every budget that applies to it, in one statement:
// each row is updated only if its window's spend and reservations plus this one stay within
// its limit (PostgreSQL re-checks the condition on the newest row version after waiting for
// its lock, so concurrent reservations queue on the row and none overshoots). A window that
// has ended starts over. The caller's transaction rolls back when fewer rows than budgets
// came back, releasing the others.
import type { Queryable } from '../../../platform/db.js';

export interface Reserved {
  id: string;
  windowStart: Date;
}

export function reserveBudgets(
  client: Queryable,
  budgetIds: string[],
  costUsd: number,
): Promise<Reserved[]> {
  return client.$queryRaw<Reserved[]>`
    UPDATE llm_budgets b SET
      "windowStart" = llm_budget_window_start(b.period, now()),
      "spentUsd" = CASE WHEN b."windowStart" = llm_budget_window_start(b.period, now())
                        THEN b."spentUsd" ELSE 0 END,
      "reservedUsd" = CASE WHEN b."windowStart" = llm_budget_window_start(b.period, now())
                           THEN b."reservedUsd" ELSE 0 END + ${costUsd}::float8,
      "updatedAt" = now()
    WHERE b.id = ANY(${budgetIds}::uuid[])
      AND CASE WHEN b."windowStart" = llm_budget_window_start(b.period, now())
               THEN b."spentUsd" + b."reservedUsd" ELSE 0 END + ${costUsd}::float8 <= b."limitUsd"
    RETURNING b.id, b."windowStart"`;
}

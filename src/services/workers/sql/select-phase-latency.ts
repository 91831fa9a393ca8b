// Phase latency over the window, p50 and p95 in seconds: due → started (runAt, its enqueue or
// its retry's due time, to its latest attempt's start) of the tasks whose attempt started in
// the window and that run now or ended since; started → ended of the tasks that ended in the
// window. By (status, completedAt) for the ended ones and the partial index of RUNNING tasks.
import type { Queryable } from '../../../platform/db.js';

export interface PhaseLatencyRow {
  startedCount: number;
  enqueueToStartP50: number | null;
  enqueueToStartP95: number | null;
  endedCount: number;
  startToEndP50: number | null;
  startToEndP95: number | null;
}

export async function selectPhaseLatency(
  client: Queryable,
  windowMs: number,
): Promise<PhaseLatencyRow> {
  const [row] = await client.$queryRaw<PhaseLatencyRow[]>`
    WITH since AS (SELECT now() - ${windowMs} * interval '1 millisecond' AS at),
    recent AS (
      SELECT "runAt", "startedAt", "completedAt" FROM tasks, since
      WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD')
        AND "completedAt" > since.at AND "startedAt" IS NOT NULL
      UNION ALL
      SELECT "runAt", "startedAt", NULL FROM tasks, since
      WHERE status = 'RUNNING' AND "startedAt" > since.at
    ),
    phases AS (
      SELECT
        CASE WHEN "startedAt" > since.at
             THEN greatest(extract(epoch FROM "startedAt" - "runAt"), 0) END AS wait,
        extract(epoch FROM "completedAt" - "startedAt") AS run
      FROM recent, since
    )
    SELECT
      count(wait)::int AS "startedCount",
      percentile_cont(0.5) WITHIN GROUP (ORDER BY wait)::float8 AS "enqueueToStartP50",
      percentile_cont(0.95) WITHIN GROUP (ORDER BY wait)::float8 AS "enqueueToStartP95",
      count(run)::int AS "endedCount",
      percentile_cont(0.5) WITHIN GROUP (ORDER BY run)::float8 AS "startToEndP50",
      percentile_cont(0.95) WITHIN GROUP (ORDER BY run)::float8 AS "startToEndP95"
    FROM phases`;
  return row!;
}

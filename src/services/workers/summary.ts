// The operator's metrics summary (GET /api/metrics/summary): the queue now, and what every
// worker did over the last five minutes, counted in PostgreSQL so that every API process
// answers the same whichever processes did the work (docs/operations.md#metrics-summary).
// Claims and their conflicts write no row of their own, so the workers' heartbeats carry
// their counts into claim_counts; the rest is read from the tasks and their event log.
import type { TaskPriority } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import { WORKER_ALIVE_WITHIN_MS } from '../tasks/queue-info.js';
import { selectClaimCounts } from './sql/select-claim-counts.js';
import { selectPhaseLatency } from './sql/select-phase-latency.js';
import { selectQueueDepth } from './sql/select-queue-depth.js';
import { selectRequeueCounts } from './sql/select-requeue-counts.js';
import { requireOperator } from './workers.js';

export const SUMMARY_WINDOW_MS = 5 * 60_000;

export interface Percentiles {
  /** Tasks measured. */
  count: number;
  p50Seconds: number | null;
  p95Seconds: number | null;
}

export interface MetricsSummary {
  windowSeconds: number;
  queue: {
    pending: number;
    /** PENDING tasks by priority, due or scheduled. */
    depthByPriority: Record<TaskPriority, number>;
    oldestPendingAgeSeconds: number | null;
  };
  workersAlive: number;
  claims: number;
  claimConflicts: number;
  leasesLost: number;
  retries: number;
  deadLettered: number;
  latency: { enqueueToStart: Percentiles; startToEnd: Percentiles };
}

export async function metricsSummary(caller: Pick<Caller, 'isOperator'>): Promise<MetricsSummary> {
  requireOperator(caller, 'the metrics summary');
  const [depth, alive, claims, requeues, latency] = await Promise.all([
    selectQueueDepth(db()),
    workersAlive(),
    selectClaimCounts(db(), SUMMARY_WINDOW_MS),
    selectRequeueCounts(db(), SUMMARY_WINDOW_MS),
    selectPhaseLatency(db(), SUMMARY_WINDOW_MS),
  ]);
  const depthByPriority: Record<TaskPriority, number> = { HIGH: 0, MEDIUM: 0, LOW: 0 };
  for (const row of depth) depthByPriority[row.priority] = row.pending;
  const ages = depth.map((row) => row.oldestAgeSeconds);
  return {
    windowSeconds: SUMMARY_WINDOW_MS / 1000,
    queue: {
      pending: depth.reduce((sum, row) => sum + row.pending, 0),
      depthByPriority,
      oldestPendingAgeSeconds: ages.length ? Math.max(...ages) : null,
    },
    workersAlive: alive,
    claims: claims.claims,
    claimConflicts: claims.conflicts,
    ...requeues,
    latency: {
      enqueueToStart: {
        count: latency.startedCount,
        p50Seconds: latency.enqueueToStartP50,
        p95Seconds: latency.enqueueToStartP95,
      },
      startToEnd: {
        count: latency.endedCount,
        p50Seconds: latency.startToEndP50,
        p95Seconds: latency.startToEndP95,
      },
    },
  };
}

/** As QueueStats.workersAlive counts them: a recent heartbeat, and not stopped. */
const workersAlive = () =>
  db().worker.count({
    where: {
      lastHeartbeatAt: { gt: new Date(Date.now() - WORKER_ALIVE_WITHIN_MS) },
      stoppedAt: null,
    },
  });

// What this worker's claims did, for two readers: Prometheus counters of this process
// (task_claims_total, task_claim_conflicts_total) and the counts each heartbeat adds to
// claim_counts, which the metrics summary sums over every worker (docs/operations.md). A
// conflict is a claim that came back with fewer tasks than it asked for while due tasks of its
// types were still PENDING right after it: rows another worker's claim held, which SKIP
// LOCKED passed over, or tasks committed while it ran. A drained queue is no conflict. One
// check per CHECK_INTERVAL_MS at most: an idle worker's every claim comes back short (it asks
// for a batch and finds one task), and a statement more per claim was a third of its turns'
// round trips at 500 tasks/s; conflicts come in bursts, which one check a moment still sees.
import type { Logger } from '../platform/logger.js';
import { poolQueryable } from '../platform/db.js';
import { dueTasksRemain } from '../queue/due-tasks-remain.js';
import type { WorkerMetrics } from './metrics.js';

const CHECK_INTERVAL_MS = 250;

export interface ClaimCountsSince {
  claims: number;
  conflicts: number;
}

export class ClaimCounts {
  private claims = 0;
  private conflicts = 0;
  /** One check at a time: a burst of short claims asks the same question. */
  private checking = false;
  /** performance.now() of the last check's start. */
  private checkedAt = -Infinity;

  constructor(
    private readonly types: readonly string[],
    private readonly log: Logger,
    private readonly metrics?: WorkerMetrics,
  ) {}

  /** A claim came back (Turns' claimReturned). */
  returned({ asked, fromQueue, total }: { asked: number; fromQueue: number; total: number }): void {
    this.claims += total;
    if (total > 0) this.metrics?.claimed(total);
    if (asked > 0) this.metrics?.claimStatement(fromQueue > 0);
    const now = performance.now();
    if (fromQueue >= asked || this.checking || now - this.checkedAt < CHECK_INTERVAL_MS) return;
    this.checking = true;
    this.checkedAt = now;
    dueTasksRemain(poolQueryable(), this.types)
      .then((due) => {
        if (!due) return;
        this.conflicts++;
        this.metrics?.claimConflict();
      })
      .catch((err) =>
        this.log.debug({ err: (err as Error).message }, 'claim conflict check failed'),
      )
      .finally(() => (this.checking = false));
  }

  /** The counts since the last take, reset; give them back if they could not be written. */
  take(): ClaimCountsSince {
    const taken = { claims: this.claims, conflicts: this.conflicts };
    this.claims = 0;
    this.conflicts = 0;
    return taken;
  }

  giveBack(counts: ClaimCountsSince): void {
    this.claims += counts.claims;
    this.conflicts += counts.conflicts;
  }
}

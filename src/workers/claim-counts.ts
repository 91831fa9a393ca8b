// What this worker's claims did, for two readers: Prometheus counters of this process
// (task_claims_total, task_claim_conflicts_total) and the counts each heartbeat adds to
// claim_counts, which the metrics summary sums over every worker (docs/operations.md). A
// conflict is a claim that came back with fewer tasks than it asked for while due tasks of its
// types were still PENDING right after it: rows another worker's claim held, which SKIP
// LOCKED passed over, or tasks committed while it ran. A drained queue is no conflict.
import type { Logger } from '../platform/logger.js';
import { poolQueryable } from '../platform/db.js';
import { dueTasksRemain } from '../queue/due-tasks-remain.js';
import type { WorkerMetrics } from './metrics.js';

export interface ClaimCountsSince {
  claims: number;
  conflicts: number;
}

export class ClaimCounts {
  private claims = 0;
  private conflicts = 0;
  /** One check at a time: a burst of short claims asks the same question. */
  private checking = false;

  constructor(
    private readonly types: readonly string[],
    private readonly log: Logger,
    private readonly metrics?: WorkerMetrics,
  ) {}

  /** A claim came back (Turns' claimReturned). */
  returned({ asked, fromQueue, total }: { asked: number; fromQueue: number; total: number }): void {
    this.claims += total;
    if (total > 0) this.metrics?.claimed(total);
    if (fromQueue >= asked || this.checking) return;
    this.checking = true;
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

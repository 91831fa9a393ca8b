// A worker's Prometheus metrics: how long the tasks it starts waited in the queue, its task
// attempts by type and how they ended, how long they ran, its claims and claim conflicts, and
// its busy slots. With ROLE=all
// they are on the API's /metrics; a ROLE=worker process serves them itself on
// WORKER_HTTP_PORT (see probes.ts). The queue's own state (tasks by
// status, oldest pending age, workers alive) is the API's, read from PostgreSQL at scrape time.
// Labels are bounded: task types come from the handler registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TaskPriority, TaskStatus } from '../generated/prisma/enums.js';

/**
 * A terminal status, or: another attempt is scheduled, the task was handed back at shutdown,
 * another worker owns it now.
 */
export type AttemptOutcome =
  Lowercase<Exclude<TaskStatus, 'PENDING' | 'RUNNING'>> | 'retry' | 'handed_back' | 'lease_lost';

export interface WorkerMetrics {
  /** A claimed task starts: how long it waited runnable (PostgreSQL's clock, see claim.ts). */
  attemptStarted(type: string, priority: TaskPriority, waitSeconds: number): void;
  attemptEnded(type: string, outcome: AttemptOutcome, seconds: number): void;
  /** The worker's slots: how many are busy (read at scrape time) out of how many. */
  observeSlots(busy: () => number, total: number): void;
  /** Tasks a claim brought. */
  claimed(tasks: number): void;
  /** A claim came back short while due tasks remained (claim-counts.ts). */
  claimConflict(): void;
  /** A claim statement came back (asked for tasks of the queue): `found`, whether it brought any. */
  claimStatement(found: boolean): void;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const attempts = new Counter({
    name: 'task_attempts_total',
    help:
      'Task attempts this process ran, by type and how they ended (retry: another attempt is ' +
      'scheduled; lease_lost: another worker owns the task now).',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'task_attempt_duration_seconds',
    help: 'How long task attempts ran in this process, by type.',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const waits = new Histogram({
    name: 'task_queue_wait_seconds',
    help:
      'From when a task became runnable (enqueued, due for a retry, requeued) to the start of ' +
      'its attempt in this process, by type and priority.',
    labelNames: ['type', 'priority'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const claims = new Counter({
    name: 'task_claims_total',
    help: 'Tasks this process claimed (each attempt is claimed once).',
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'task_claim_conflicts_total',
    help:
      'Claims of this process that came back with fewer tasks than they asked for while due ' +
      'tasks of its types were still PENDING (SKIP LOCKED passed over rows another claim held).',
    registers: [registry],
  });
  const claimStatements = new Counter({
    name: 'task_claim_statements_total',
    help:
      'Claims of this process that asked the queue for tasks (a statement each), by whether ' +
      'they found any (`found`: `yes`, `no`).',
    labelNames: ['found'] as const,
    registers: [registry],
  });
  let busy = () => 0;
  let total = 0;
  new Gauge({
    name: 'task_worker_slots_busy',
    help: 'Tasks this process runs now.',
    registers: [registry],
    collect() {
      this.set(busy());
    },
  });
  new Gauge({
    name: 'task_worker_slots',
    help: 'Tasks this process runs at most (WORKER_CONCURRENCY).',
    registers: [registry],
    collect() {
      this.set(total);
    },
  });
  return {
    attemptStarted(type, priority, waitSeconds) {
      waits.observe({ type, priority: priority.toLowerCase() }, waitSeconds);
    },
    attemptEnded(type, outcome, seconds) {
      attempts.inc({ type, outcome });
      durations.observe({ type }, seconds);
    },
    observeSlots(get, slots) {
      busy = get;
      total = slots;
    },
    claimed: (tasks) => claims.inc(tasks),
    claimConflict: () => conflicts.inc(),
    claimStatement: (found) => claimStatements.inc({ found: found ? 'yes' : 'no' }),
  };
}

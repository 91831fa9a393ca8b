// The task queue on the API's /metrics, read from PostgreSQL at scrape time: the queue's state
// lives there, so every API process reports the same numbers (dashboards and alerts take max).
import { Gauge, type Registry } from 'prom-client';
import { queueStats } from '../services/tasks/queue-info.js';

const TASK_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'timeout',
  'dead',
] as const;

export function registerQueueGauges(registry: Registry): void {
  // The gauges share one query per scrape (prom-client collects them concurrently).
  let reading: ReturnType<typeof queueStats> | undefined;
  const readQueue = () =>
    (reading ??= queueStats().finally(() => setImmediate(() => (reading = undefined))));
  new Gauge({
    name: 'tasks',
    help: 'Background tasks by status, read from PostgreSQL at scrape time.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const stats = await readQueue();
      for (const status of TASK_STATUSES) this.set({ status }, stats[status]);
    },
  });
  new Gauge({
    name: 'tasks_pending',
    help: 'The queue depth: PENDING tasks by priority (high, medium, low), due or scheduled.',
    labelNames: ['priority'] as const,
    registers: [registry],
    async collect() {
      const { byPriority } = await readQueue();
      for (const [priority, count] of Object.entries(byPriority))
        this.set({ priority: priority.toLowerCase() }, count);
    },
  });
  new Gauge({
    name: 'tasks_oldest_due_wait_seconds',
    help:
      'How long the oldest due PENDING task has waited for a worker since its runAt (enqueued, ' +
      'or due for a retry); 0 when none waits.',
    registers: [registry],
    async collect() {
      this.set((await readQueue()).oldestDueWaitSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'tasks_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING task, 0 when none waits.',
    registers: [registry],
    async collect() {
      this.set((await readQueue()).oldestPendingAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'task_workers_alive',
    help: 'Workers with a heartbeat in the last 15 s.',
    registers: [registry],
    async collect() {
      this.set((await readQueue()).workersAlive);
    },
  });
}

// The task queue on the API's /metrics, read from PostgreSQL at scrape time: the queue's state
// lives there, so every API process reports the same numbers.
import { Gauge, type Registry } from 'prom-client';
import { queueStats } from '../resolvers/tasks/queue-info.js';

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
  // The three gauges share one query per scrape (prom-client collects them concurrently).
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

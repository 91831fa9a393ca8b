// Tasks enqueued, counted by the process that enqueues them (an API for the tasks a request
// asks for, a worker for the webhook deliveries and workflow step tasks it queues): Prometheus
// sums the processes. Step tasks are inserted in SQL, and counted by advanceWorkflows.
// The wait before a task starts is the worker's to count (src/workers/metrics.ts).
import { Counter, type Registry } from 'prom-client';
import type { TaskPriority } from '../generated/prisma/enums.js';

export interface QueueMetrics {
  /** A new task committed (an idempotent repeat that returned an existing task is not). */
  enqueued(task: { type: string; priority: TaskPriority }): void;
}

export function createQueueMetrics(registry: Registry): QueueMetrics {
  const enqueued = new Counter({
    name: 'tasks_enqueued_total',
    help: 'New tasks this process enqueued, by type and priority (counted after their commit).',
    labelNames: ['type', 'priority'] as const,
    registers: [registry],
  });
  return {
    enqueued: ({ type, priority }) => enqueued.inc({ type, priority: priority.toLowerCase() }),
  };
}

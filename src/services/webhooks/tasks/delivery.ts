// webhook_delivery: one queued delivery per finished task with a webhookUrl, so the task
// completes without waiting on the receiver; each run is one attempt to POST the outcome.
// Four attempts = the first and 3 retries with exponential backoff (the queue's SQL
// schedule); every attempt is recorded.
import { z } from 'zod';
import type { PubSub } from '../../../platform/pubsub.js';
import { enqueue } from '../../../queue/enqueue.js';
import type { QueueMetrics } from '../../../queue/queue-metrics.js';
import type { TaskRow } from '../../../queue/task-row.js';
import { taskSpec } from '../../../queue/task-spec.js';
import { defineTask, NonRetryableError } from '../../../queue/task-definition.js';
import { deliverTaskWebhook, type WebhookSettings } from '../delivery.js';
import type { WebhookMetrics } from '../metrics.js';

export const webhookDelivery = taskSpec({
  name: 'webhook_delivery',
  payload: z.object({ taskId: z.guid() }),
  maxAttempts: 4,
  // The request's own timeout (WEBHOOK_TIMEOUT_MS) plus bookkeeping.
  timeoutSeconds: 30,
});

/** After a task ends: queue the delivery of its webhook, if it has one (never blocking the task itself). */
export async function queueWebhookDelivery(
  task: TaskRow,
  pubsub: PubSub,
  metrics?: QueueMetrics,
): Promise<void> {
  if (!task.webhookUrl || task.type === webhookDelivery.name) return;
  await enqueue(
    webhookDelivery,
    {
      payload: { taskId: task.id },
      priority: 'HIGH',
      ownerId: task.ownerId!,
      teamId: task.teamId,
      // One delivery per ending: a retried task that ends again is delivered again.
      idempotencyKey: `webhook:${task.id}:${task.lastSequence}`,
    },
    { pubsub, metrics },
  );
}

export function webhookDeliveryTask(settings: WebhookSettings, metrics?: WebhookMetrics) {
  return defineTask(webhookDelivery, {
    async run({ taskId }, { task, reportProgress }) {
      reportProgress(10, `delivering (attempt ${task.attempts} of ${task.maxAttempts})`);
      const outcome = await deliverTaskWebhook(taskId, task.attempts, settings);
      metrics?.attempted(outcome);
      if (outcome.refused) throw new NonRetryableError(outcome.error ?? 'refused');
      if (!outcome.succeeded) throw new Error(outcome.error ?? 'delivery failed');
      return { statusCode: outcome.statusCode };
    },
  });
}

// webhook_delivery: one attempt to POST a finished task's outcome to its webhookUrl (the
// type is declared in src/resolvers/tasks/webhook-task.ts, where deliveries are queued).
import type { WebhookMetrics } from '../../resolvers/tasks/webhook-metrics.js';
import { webhookDelivery } from '../../resolvers/tasks/webhook-task.js';
import { deliverTaskWebhook, type WebhookSettings } from '../../resolvers/tasks/webhooks.js';
import { defineTask, NonRetryableError } from '../task-registry.js';

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

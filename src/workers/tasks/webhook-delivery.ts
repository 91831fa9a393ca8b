// webhook_delivery: one queued delivery per finished task with a webhookUrl, so the task
// completes without waiting on the receiver. Four attempts = the first and 3 retries
// with exponential backoff (the queue's SQL schedule); every attempt is recorded.
import { z } from 'zod';
import { deliverTaskWebhook } from '../../resolvers/webhooks.js';
import { defineTask, NonRetryableError, payloadParser } from '../task-definition.js';

const payloadSchema = z.object({ taskId: z.string().uuid() });

export const webhookDelivery = defineTask({
  type: 'webhook_delivery',
  // 10 s per request plus bookkeeping.
  timeoutSeconds: 30,
  maxAttempts: 4,
  parsePayload: payloadParser(payloadSchema),
  async run({ taskId }, { task, reportProgress }) {
    reportProgress(10, `delivering (attempt ${task.attempts} of ${task.maxAttempts})`);
    const outcome = await deliverTaskWebhook(taskId, task.attempts);
    if (outcome.refused) throw new NonRetryableError(outcome.error ?? 'refused');
    if (!outcome.succeeded) throw new Error(outcome.error ?? 'delivery failed');
    return { statusCode: outcome.statusCode };
  },
});

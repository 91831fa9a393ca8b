// webhook_delivery: one task per message (webhook_messages), so what emits never waits on a
// receiver; each run is one attempt. Retries follow WEBHOOK_RETRY_DELAYS_MS (the definition's
// schedule), up to WEBHOOK_MAX_ATTEMPTS (set on each task when it is enqueued).
import { z } from 'zod';
import { WEBHOOK_RETRY_DELAYS_MS } from '../../../platform/webhook-defaults.js';
import { taskSpec } from '../../../queue/task-spec.js';

export const webhookDelivery = taskSpec({
  name: 'webhook_delivery',
  payload: z.object({ messageId: z.guid() }),
  maxAttempts: 12,
  // The request's own timeout (WEBHOOK_TIMEOUT_MS) plus bookkeeping.
  timeoutSeconds: 30,
  retryDelaysMs: WEBHOOK_RETRY_DELAYS_MS,
});

// The webhook_delivery handler: one attempt to POST a message. A refused target (SSRF) and a
// 4xx other than 408 and 429 are not retried: the receiver said the message itself is wrong
// or unwanted, and the attempt row says so. Every other failure is retried on the schedule.
import type { Keyring } from '../../../platform/vault.js';
import { defineTask, NonRetryableError } from '../../../queue/task-definition.js';
import { deliverMessage, type EndpointOwners, type WebhookSettings } from '../delivery.js';
import type { WebhookMetrics } from '../metrics.js';
import { webhookDelivery } from './spec.js';

/** A status that retrying will not change: 4xx but Request Timeout and Too Many Requests. */
const finalStatus = (status: number | null) =>
  status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;

/** `vault.keyring` is read at each run (the gateway's, which a test may replace). */
export function webhookDeliveryTask(
  settings: WebhookSettings,
  vault: { readonly keyring: Keyring },
  metrics?: WebhookMetrics,
  /** Who renders the messages of endpoints another part owns (integration plugins). */
  owners?: EndpointOwners,
) {
  return defineTask(
    { ...webhookDelivery, retryDelaysMs: settings.retryDelaysMs },
    {
      async run({ messageId }, { task, reportProgress, signal }) {
        reportProgress(10, `delivering (attempt ${task.attempts} of ${task.maxAttempts})`);
        const outcome = await deliverMessage(messageId, settings, vault.keyring, owners, signal);
        if (!outcome)
          throw new NonRetryableError('the message or its endpoint is gone or disabled');
        metrics?.attempted(outcome);
        if (outcome.refused) throw new NonRetryableError(outcome.error ?? 'refused');
        if (finalStatus(outcome.statusCode)) throw new NonRetryableError(outcome.error!);
        if (!outcome.succeeded) throw new Error(outcome.error ?? 'delivery failed');
        return { statusCode: outcome.statusCode };
      },
    },
  );
}

// An integration plugin's deliveries, as the webhook endpoints system makes them: each event
// is a message at the plugin's endpoint and a webhook_delivery task (retries, records,
// redelivery); at each attempt the plugin renders the POST (its URL, headers and body from the
// event and what it was granted), the endpoint's secret signs it, and the outcome counts
// toward DISABLE_AFTER_FAILURES (docs/plugins.md#failures).
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { Keyring } from '../../platform/vault.js';
import type { EndpointOwners, WebhookSettings } from '../webhooks/delivery.js';
import { connectUrl } from './http-call.js';
import { integrationRequest, shownUrl } from './requests.js';
import { recordDeliveryOutcome } from './sql/record-delivery-outcome.js';
import { PluginRefusal } from './target.js';

/** Failed deliveries in a row that turn a plugin off. */
export const FAILURES_BEFORE_DISABLE = 20;

interface Envelope {
  timestamp?: string;
  data?: Record<string, unknown>;
}

export function pluginEndpointOwners(
  settings: WebhookSettings,
  /** Read at each request (a test may replace the gateway's keyring). */
  vault: { readonly keyring: Keyring },
): EndpointOwners {
  return {
    async request(endpointId, message) {
      const installation = await db().pluginInstallation.findUnique({
        where: { webhookEndpointId: endpointId },
      });
      if (!installation || installation.status !== 'ACTIVE')
        throw new PluginRefusal('the plugin is disabled or uninstalled');
      const envelope = (message.payload ?? {}) as Envelope;
      const request = await integrationRequest(
        installation,
        {
          type: message.eventType,
          timestamp: envelope.timestamp ?? new Date().toISOString(),
          data: envelope.data ?? {},
        },
        { keyring: vault.keyring, network: settings },
      );
      const connect = connectUrl(request.url, settings);
      return {
        url: connect,
        shownUrl: shownUrl(installation),
        headers: { ...request.headers, ...(connect !== request.url && { host: request.url.host }) },
        body: request.body ?? '',
      };
    },
    async attempted(endpointId, succeeded) {
      const row = await recordDeliveryOutcome(db(), endpointId, succeeded, FAILURES_BEFORE_DISABLE);
      if (row?.disabledNow)
        logger.warn(
          { pluginInstallationId: row.id, failures: row.consecutiveFailures },
          'plugin disabled after failed deliveries in a row',
        );
    },
  };
}

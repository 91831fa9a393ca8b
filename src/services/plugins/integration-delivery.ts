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
import { grantsOf } from './scopes.js';
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
      try {
        return await render(endpointId, message);
      } catch (error) {
        if (error instanceof PluginRefusal) return { refusedBecause: error.message };
        throw error;
      }
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

  async function render(
    endpointId: string,
    message: { id: string; eventType: string; payload: unknown },
  ) {
    const installation = await db().pluginInstallation.findUnique({
      where: { webhookEndpointId: endpointId },
    });
    if (!installation || installation.status !== 'ACTIVE')
      throw new PluginRefusal('the plugin is disabled or uninstalled');
    // Its endpoint may be named as a task's or workflow's target for any event type: only
    // the types the plugin was granted reach it.
    if (!grantsOf(installation.grantedScopes).events.has(message.eventType))
      throw new PluginRefusal(`the plugin is not granted events:${message.eventType}`);
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
  }
}

// Webhooks: each message (webhook_messages) POSTed to its endpoint or raw URL, signed
// per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), so receivers
// verify it with the `standardwebhooks` library. Outside development only https to
// public addresses: checked on the resolved address at enqueue time, and again at
// connect time by request-filtering-agent (so DNS rebinding fails too).
import http from 'node:http';
import https from 'node:https';
import { useAgent } from 'request-filtering-agent';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../../platform/config.js';
import { db } from '../../platform/db.js';
import { checkOutboundUrl } from '../../platform/outbound-url.js';
import type { Keyring } from '../../platform/vault.js';
import { signingSecrets } from './secrets.js';
import { recordAttempt } from './sql/record-attempt.js';

/** The webhook settings as configured (WEBHOOK_*). */
export type WebhookSettings = Config['webhooks'];

/** The settings, once the secret is known to be usable (fails at start-up, not at the first delivery). */
export function checkedWebhookSettings(settings: WebhookSettings): WebhookSettings {
  new Webhook(settings.secret);
  return settings;
}

/** Where a report's or workflow's end is sent besides the team's subscribed endpoints. */
export interface WebhookTargetInput {
  webhookUrl?: string | null;
  /** A row id: an endpoint of the subject's team. */
  webhookEndpointId?: string | null;
}

/** The webhook URL to store, or BAD_USER_INPUT naming `argument` and saying why it is refused. */
export const checkWebhookUrl = (
  raw: string,
  settings: Pick<WebhookSettings, 'allowPrivateTargets'>,
  argument = 'input.webhookUrl',
) => checkOutboundUrl(raw, settings, argument);

export interface WebhookOutcome {
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  /** The target is not allowed: retrying cannot help. */
  refused: boolean;
}

/** One attempt as deliverMessage made it: its outcome and how long the POST took. */
export type WebhookAttempt = WebhookOutcome & { seconds: number };

/** The POST an endpoint's owner renders for a message (its own URL, headers and body). */
export interface OwnedRequest {
  /** Where to connect. */
  url: URL;
  /** What the delivery's record shows (never a rendered secret). */
  shownUrl: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Endpoints another part owns (an integration plugin's, docs/plugins.md): their messages are
 * rendered by the owner, and the owner hears each attempt's outcome.
 */
export interface EndpointOwners {
  /**
   * The message's POST, or why the owner refuses it (recorded, not retried); a throw is a
   * failure to retry (the database, DNS).
   */
  request(
    endpointId: string,
    message: { id: string; eventType: string; payload: unknown },
  ): Promise<OwnedRequest | { refusedBecause: string }>;
  attempted(endpointId: string, succeeded: boolean): Promise<void>;
}

/**
 * The POST and its whole answer, headers and body, within `signal` (the attempt's deadline,
 * with the task's own signal). A socket timeout would not do: it counts from the last byte
 * received, so a receiver that trickles its body held the attempt, and a worker's slot, until
 * the task's own timeout ended it unretried.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  allowPrivate: boolean,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body).toString(),
          'user-agent': 'agent-growth-webhooks/1',
        },
        agent: allowPrivate ? undefined : useAgent(url.toString()),
        signal,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
        // Cut short (the deadline, a reset): no 'end', and not always an 'error'.
        response.on('close', () => {
          if (!response.complete) reject(new Error('the answer was cut short'));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * POSTs the signed body; the outcome says whether a retry can help. `signal` (the task's,
 * aborted when it is cancelled or stopped) closes the connection at once.
 */
async function attemptDelivery(
  url: URL,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, allowPrivateTargets }: WebhookSettings,
  signal?: AbortSignal,
): Promise<WebhookOutcome> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const status = await post(
      url,
      headers,
      body,
      allowPrivateTargets,
      signal ? AbortSignal.any([signal, deadline]) : deadline,
    );
    const ok = status >= 200 && status < 300;
    return {
      succeeded: ok,
      statusCode: status,
      error: ok ? null : `HTTP ${status}`,
      refused: false,
    };
  } catch (error) {
    if (signal?.aborted) {
      const error =
        'stopped while the POST was under way (its task was cancelled or timed out, or its ' +
        'worker stopped)';
      return { succeeded: false, statusCode: null, error, refused: false };
    }
    if (deadline.aborted) {
      const error = `timed out after ${timeoutMs} ms (the whole answer, headers and body)`;
      return { succeeded: false, statusCode: null, error, refused: false };
    }
    const message = (error as Error).message;
    const refused = /is not allowed|private|Forbidden/i.test(message) && !allowPrivateTargets;
    return {
      succeeded: false,
      statusCode: null,
      error: refused ? `refused: ${message}` : message,
      refused,
    };
  }
}

/** The message as its attempts send it, with where and what signs it; undefined: gone. */
async function messageToSend(messageId: string, settings: WebhookSettings, keyring: Keyring) {
  const message = await db().webhookMessage.findUnique({
    where: { id: messageId },
    include: { endpoint: { include: { plugin: { select: { id: true } } } } },
  });
  if (!message) return undefined;
  const { endpoint } = message;
  const secrets = endpoint ? signingSecrets(keyring, endpoint) : [settings.secret];
  // An owned endpoint's url is its owner's template (the owner renders each message's URL).
  const url = endpoint?.plugin ? null : new URL(endpoint?.url ?? message.url!);
  return { message, url, shownUrl: endpoint?.url ?? message.url!, secrets };
}

/**
 * One attempt to deliver a message, recorded in webhook_deliveries under the message's next
 * attempt number (a redelivery continues the count). Undefined: the message or its endpoint
 * is gone, or the endpoint is disabled (nothing is sent), or they went while it was sent.
 */
export async function deliverMessage(
  messageId: string,
  settings: WebhookSettings,
  keyring: Keyring,
  owners?: EndpointOwners,
  signal?: AbortSignal,
): Promise<WebhookAttempt | undefined> {
  const toSend = await messageToSend(messageId, settings, keyring);
  if (!toSend || toSend.message.endpoint?.enabled === false) return undefined;
  const { message, secrets } = toSend;
  const owned = message.endpoint?.plugin ? message.endpoint.id : undefined;
  const refusal = (why: string): WebhookOutcome => ({
    succeeded: false,
    statusCode: null,
    error: `refused: ${why}`,
    refused: true,
  });
  let request: OwnedRequest | WebhookOutcome = toSend.url
    ? {
        url: toSend.url,
        shownUrl: toSend.shownUrl,
        headers: {},
        body: JSON.stringify(message.payload),
      }
    : refusal('the endpoint is owned, and this worker cannot render its messages');
  if (owned && owners) {
    const owned_ = await owners.request(owned, message);
    request = 'refusedBecause' in owned_ ? refusal(owned_.refusedBecause) : owned_;
  }
  const attempt = await sendMessage(message, toSend.shownUrl, request, secrets, settings, signal);
  if (attempt && owned && owners) await owners.attempted(owned, attempt.succeeded);
  return attempt;
}

/**
 * Signs and POSTs the request (or records the owner's refusal of it); undefined: the message
 * was deleted meanwhile (its endpoint with it), so there is nothing to record or retry.
 */
async function sendMessage(
  message: { id: string; taskId: string | null; endpointId: string | null },
  shownUrl: string,
  request: OwnedRequest | WebhookOutcome,
  secrets: string[],
  settings: WebhookSettings,
  signal?: AbortSignal,
): Promise<WebhookAttempt | undefined> {
  if ('refused' in request) {
    const recorded = await recordAttempt({
      messageId: message.id,
      taskId: message.taskId,
      endpointId: message.endpointId,
      url: shownUrl,
      statusCode: null,
      error: request.error,
      succeeded: false,
      durationMs: 0,
    });
    return recorded ? { ...request, seconds: 0 } : undefined;
  }
  const { url, body } = request;
  // The same id on every attempt and redelivery: receivers de-duplicate on it (Standard Webhooks).
  const webhookId = `msg_${message.id}`;
  const timestamp = new Date();
  const headers = {
    ...request.headers,
    'webhook-id': webhookId,
    'webhook-timestamp': Math.floor(timestamp.getTime() / 1000).toString(),
    // Standard Webhooks: space-separated signatures; a receiver accepts any one that verifies.
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(webhookId, timestamp, body))
      .join(' '),
  };
  const started = performance.now();
  const outcome = await attemptDelivery(url, headers, body, settings, signal);
  const durationMs = performance.now() - started;
  const recorded = await recordAttempt({
    messageId: message.id,
    taskId: message.taskId,
    endpointId: message.endpointId,
    url: request.shownUrl,
    statusCode: outcome.statusCode,
    error: outcome.error,
    succeeded: outcome.succeeded,
    durationMs: Math.round(durationMs),
  });
  return recorded ? { ...outcome, seconds: durationMs / 1000 } : undefined;
}

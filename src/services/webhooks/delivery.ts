// Webhooks: when a task with a webhookUrl ends, POST its outcome signed
// per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), so receivers
// verify it with the `standardwebhooks` library. Outside development only https to
// public addresses: checked on the resolved address at enqueue time, and again at
// connect time by request-filtering-agent (so DNS rebinding fails too).
import http from 'node:http';
import https from 'node:https';
import { useAgent } from 'request-filtering-agent';
import { Webhook } from 'standardwebhooks';
import { db } from '../../platform/db.js';
import { checkOutboundUrl } from '../../platform/outbound-url.js';
import { publicId } from '../../platform/public-ids.js';

export interface WebhookSettings {
  /** `whsec_<base64>` */
  secret: string;
  /** Development only: http and private, loopback and link-local targets allowed. */
  allowPrivateTargets: boolean;
  timeoutMs: number;
}

/** The settings, once the secret is known to be usable (fails at start-up, not at the first delivery). */
export function checkedWebhookSettings(settings: WebhookSettings): WebhookSettings {
  new Webhook(settings.secret);
  return settings;
}

/** The webhook URL to store, or BAD_USER_INPUT saying why it is refused. */
export const checkWebhookUrl = (
  raw: string,
  settings: Pick<WebhookSettings, 'allowPrivateTargets'>,
) => checkOutboundUrl(raw, settings, 'webhookUrl');

export interface WebhookOutcome {
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  /** The target is not allowed: retrying cannot help. */
  refused: boolean;
}

/** One attempt as deliverTaskWebhook made it: its outcome and how long the POST took. */
export type WebhookAttempt = WebhookOutcome & { seconds: number };

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  allowPrivate: boolean,
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
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** The body receivers get: the task's outcome, with ids as clients know them. */
function webhookBody(task: {
  id: string;
  agentId: string | null;
  topicId: string | null;
  status: string;
  result: unknown;
  error: string | null;
  completedAt: Date | null;
}): string {
  return JSON.stringify({
    taskId: publicId('Task', task.id),
    agentId: task.agentId ? publicId('Agent', task.agentId) : null,
    topicId: task.topicId ? publicId('Topic', task.topicId) : null,
    status: task.status,
    result: task.result,
    error: task.error,
    completedAt: task.completedAt?.toISOString() ?? null,
  });
}

/** POSTs the signed body; the outcome says whether a retry can help. */
async function attemptDelivery(
  url: URL,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, allowPrivateTargets }: WebhookSettings,
): Promise<WebhookOutcome> {
  try {
    const status = await post(url, headers, body, timeoutMs, allowPrivateTargets);
    const ok = status >= 200 && status < 300;
    return {
      succeeded: ok,
      statusCode: status,
      error: ok ? null : `HTTP ${status}`,
      refused: false,
    };
  } catch (error) {
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

/** One delivery attempt of a finished task's outcome, recorded in webhook_deliveries. */
export async function deliverTaskWebhook(
  taskId: string,
  attempt: number,
  settings: WebhookSettings,
): Promise<WebhookAttempt> {
  const task = await db().task.findUniqueOrThrow({ where: { id: taskId } });
  const url = new URL(task.webhookUrl!);
  const body = webhookBody(task);
  // The same id on every attempt: receivers de-duplicate on it (Standard Webhooks).
  const messageId = `msg_${task.id}_${task.lastSequence}`;
  const timestamp = new Date();
  const headers = {
    'webhook-id': messageId,
    'webhook-timestamp': Math.floor(timestamp.getTime() / 1000).toString(),
    'webhook-signature': new Webhook(settings.secret).sign(messageId, timestamp, body),
  };
  const started = performance.now();
  const outcome = await attemptDelivery(url, headers, body, settings);
  const durationMs = performance.now() - started;
  const recorded = {
    statusCode: outcome.statusCode,
    error: outcome.error,
    succeeded: outcome.succeeded,
  };
  await db().webhookDelivery.upsert({
    where: { taskId_attempt: { taskId, attempt } },
    create: {
      taskId,
      url: url.toString(),
      attempt,
      ...recorded,
      durationMs: Math.round(durationMs),
    },
    update: { ...recorded, deliveredAt: new Date() },
  });
  return { ...outcome, seconds: durationMs / 1000 };
}

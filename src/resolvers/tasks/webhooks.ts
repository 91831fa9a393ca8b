// Webhooks (seed 001, C4): when a task with a webhookUrl ends, POST its outcome signed
// per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), so receivers
// verify it with the `standardwebhooks` library. Outside development only https to
// public addresses: checked on the resolved address at enqueue time, and again at
// connect time by request-filtering-agent (so DNS rebinding fails too).
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import { useAgent } from 'request-filtering-agent';
import { Webhook } from 'standardwebhooks';
import { db } from '../../platform/db.js';
import { BadInputError } from '../../platform/errors.js';
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

function isPublicAddress(address: string): boolean {
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * The URL to store, or BAD_USER_INPUT naming `argument` and saying why it is refused: http(s),
 * no credentials, and unless private targets are allowed https to public addresses only.
 * Also the rule for an LLM deployment's base URL.
 */
export async function checkOutboundUrl(
  raw: string,
  settings: Pick<WebhookSettings, 'allowPrivateTargets'>,
  argument = 'webhookUrl',
): Promise<string> {
  const refuse = (problem: string) =>
    new BadInputError(`${argument} ${problem}`, { field: argument }, argument);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be http(s)');
  if (url.username || url.password) throw refuse('must not carry credentials');
  if (settings.allowPrivateTargets) return url.toString();
  if (url.protocol !== 'https:') throw refuse('must use https');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (all) => all.map((a) => a.address),
        () => [],
      );
  if (addresses.length === 0) throw refuse(`host ${host} does not resolve`);
  const refused = addresses.filter((address) => !isPublicAddress(address));
  if (refused.length) throw refuse(`resolves to a non-public address (${refused.join(', ')})`);
  return url.toString();
}

/** The webhook URL to store, or BAD_USER_INPUT saying why it is refused. */
export const checkWebhookUrl = (
  raw: string,
  settings: Pick<WebhookSettings, 'allowPrivateTargets'>,
) => checkOutboundUrl(raw, settings, 'webhookUrl');

/** The same rule as a connect-time check (DNS rebinding): is this resolved address public? */
export const isPublicTarget = isPublicAddress;

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

/** The body receivers get (SPEC C4): the task's outcome, with ids as clients know them. */
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

// Emitting an event: one message per target (the team's enabled endpoints subscribed to the
// type, an endpoint the caller named, a raw URL), each delivered by its own webhook_delivery
// task. Inserted in the caller's transaction when it gives one, else on their own right after
// the change committed; never thrown to the emitter: a failure to emit is logged, the change
// that emitted stands.
import { inTransaction, type Transaction } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import { enqueue } from '../../queue/enqueue.js';
import type { QueueMetrics } from '../../queue/queue-metrics.js';
import type { WebhookEventType } from './event-types.js';
import { webhookDelivery } from './tasks/spec.js';

export interface EmitDeps {
  pubsub: PubSub;
  /** Attempts per message (WEBHOOK_MAX_ATTEMPTS); unset: the task spec's. */
  webhooks?: { maxAttempts: number };
  metrics?: QueueMetrics;
  /** Insert the messages and tasks in this transaction (they commit with the change). */
  tx?: Transaction;
}

export interface WebhookEvent {
  type: WebhookEventType;
  /** Whose it is, and whose endpoints subscribe; null: no team's (an operator's budget, say). */
  teamId: string | null;
  /** Who the delivery tasks belong to. */
  ownerId: string;
  /** The event's own fields: the body is `{ type, timestamp, data }` (Standard Webhooks). */
  data: Record<string, unknown>;
}

export interface ExtraTargets {
  /** false: not to the team's subscribed endpoints (only the targets below). */
  subscribed?: boolean;
  /** An endpoint named for this event (checked as the team's when it was named). */
  endpointId?: string | null;
  /** A raw URL (signed with WEBHOOK_SECRET). */
  url?: string | null;
  /** The raw URL's body, when it is not the event's (a task's own webhookUrl: its outcome). */
  urlBody?: unknown;
  /** The raw URL is this task's own: its attempts are listed on the task. */
  taskId?: string | null;
  /** The raw URL is this workflow's own: its attempts are listed on the workflow. */
  workflowId?: string | null;
}

interface NewMessage {
  endpointId: string | null;
  url: string | null;
  taskId: string | null;
  workflowId: string | null;
  body: unknown;
}

/** The event's targets: subscribed endpoints, plus the named one (once), plus the raw URL. */
async function targetsOf(
  event: WebhookEvent,
  extra: ExtraTargets,
  client: Pick<Transaction['client'], 'webhookEndpoint'>,
): Promise<NewMessage[]> {
  const body = { type: event.type, timestamp: new Date().toISOString(), data: event.data };
  const endpoints =
    event.teamId && (extra.subscribed !== false || extra.endpointId)
      ? await client.webhookEndpoint.findMany({
          where: {
            teamId: event.teamId,
            enabled: true,
            OR: [
              ...(extra.subscribed !== false ? [{ eventTypes: { has: event.type } }] : []),
              ...(extra.endpointId ? [{ id: extra.endpointId }] : []),
            ],
          },
          select: { id: true },
        })
      : [];
  const messages: NewMessage[] = endpoints.map(({ id }) => ({
    endpointId: id,
    url: null,
    taskId: null,
    workflowId: null,
    body,
  }));
  if (extra.url)
    messages.push({
      endpointId: null,
      url: extra.url,
      taskId: extra.taskId ?? null,
      workflowId: extra.workflowId ?? null,
      body: extra.urlBody ?? body,
    });
  return messages;
}

async function insertAndEnqueue(
  event: WebhookEvent,
  extra: ExtraTargets,
  deps: EmitDeps,
  tx: Transaction,
): Promise<string[]> {
  const { client } = tx;
  const messages = await targetsOf(event, extra, client);
  const ids: string[] = [];
  for (const message of messages) {
    const row = await client.webhookMessage.create({
      data: {
        teamId: event.teamId,
        endpointId: message.endpointId,
        url: message.url,
        taskId: message.taskId,
        workflowId: message.workflowId,
        eventType: event.type,
        payload: message.body as object,
      },
      select: { id: true },
    });
    await enqueueDelivery(row.id, event, deps, tx);
    ids.push(row.id);
  }
  return ids;
}

/** The delivery task of a message (also a redelivery's). */
export function enqueueDelivery(
  messageId: string,
  owner: { ownerId: string; teamId: string | null },
  deps: Pick<EmitDeps, 'pubsub' | 'webhooks' | 'metrics'>,
  tx?: Transaction,
  /** Unset: WEBHOOK_MAX_ATTEMPTS (a redelivery is one attempt). */
  maxAttempts?: number,
) {
  return enqueue(
    webhookDelivery,
    {
      payload: { messageId },
      priority: 'HIGH',
      ownerId: owner.ownerId,
      teamId: owner.teamId,
      maxAttempts: maxAttempts ?? deps.webhooks?.maxAttempts,
    },
    { pubsub: deps.pubsub, metrics: deps.metrics, tx },
  );
}

/**
 * Emits the event; the ids of its messages. In `deps.tx` a failure is the transaction's (the
 * caller chose to commit them together); alone, it is logged and swallowed.
 */
export async function emitWebhookEvent(
  event: WebhookEvent,
  extra: ExtraTargets,
  deps: EmitDeps,
): Promise<string[]> {
  if (deps.tx) return insertAndEnqueue(event, extra, deps, deps.tx);
  try {
    return await inTransaction((tx) => insertAndEnqueue(event, extra, deps, tx));
  } catch (error) {
    logger.warn({ err: error, type: event.type }, 'webhook event not emitted');
    return [];
  }
}

// A delivery (one attempt at a message) as its team sees it, and redelivery: the message
// sent again under the same webhook-id, its attempts numbered on from the last. Another
// team's delivery is NOT_FOUND.
import { db, inTransaction } from '../../platform/db.js';
import { notFound } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { canRead, requireAdminister } from '../auth/permissions.js';
import { wakeWorkers } from '../../queue/signals.js';
import { enqueueDelivery, type EmitDeps } from './emit.js';
import { dueOpenDelivery } from './sql/due-open-delivery.js';
import { webhookDelivery } from './tasks/spec.js';

async function deliveryOfCaller(deliveryId: string, caller: Caller) {
  const delivery = await db().webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { message: { select: { id: true, teamId: true } } },
  });
  const teamId = delivery?.message?.teamId;
  if (!delivery?.message || !teamId || !canRead(caller, teamId)) throw notFound('WebhookDelivery');
  return { delivery, message: delivery.message, teamId };
}

/**
 * Sends the delivery's message again (its team's administrators): one attempt, now. While a
 * delivery of the message is still open (its first attempt or a retry waiting), that one is
 * made due now and returned instead of a second one beside it: a message is never POSTed by
 * two tasks at once, nor past WEBHOOK_MAX_ATTEMPTS by its own retries. The message row's
 * lock orders concurrent redeliveries.
 */
export async function redeliverWebhook(
  deliveryId: string,
  caller: Caller,
  deps: Omit<EmitDeps, 'tx'>,
) {
  const { message, teamId } = await deliveryOfCaller(deliveryId, caller);
  requireAdminister(caller, teamId, 'WebhookDelivery');
  const taskId = await inTransaction(async (tx) => {
    const open = await dueOpenDelivery(tx, message.id);
    if (open) {
      tx.afterCommit(() => void wakeWorkers(deps.pubsub, webhookDelivery.name));
      return open;
    }
    const owner = { ownerId: caller.userId, teamId };
    return (await enqueueDelivery(message.id, owner, deps, tx, 1)).task.id;
  });
  return { webhookId: `msg_${message.id}`, taskId };
}

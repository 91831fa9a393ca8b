// A delivery (one attempt at a message) as its team sees it, and redelivery: the message
// sent again under the same webhook-id, its attempts numbered on from the last. Another
// team's delivery is NOT_FOUND.
import { db } from '../../platform/db.js';
import { notFound } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { canRead, requireAdminister } from '../auth/permissions.js';
import { enqueueDelivery, type EmitDeps } from './emit.js';

async function deliveryOfCaller(deliveryId: string, caller: Caller) {
  const delivery = await db().webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { message: { select: { id: true, teamId: true } } },
  });
  const teamId = delivery?.message?.teamId;
  if (!delivery?.message || !teamId || !canRead(caller, teamId)) throw notFound('WebhookDelivery');
  return { delivery, message: delivery.message, teamId };
}

/** Queues the delivery's message again (its team's administrators); the new task. */
export async function redeliverWebhook(
  deliveryId: string,
  caller: Caller,
  deps: Omit<EmitDeps, 'tx'>,
) {
  const { message, teamId } = await deliveryOfCaller(deliveryId, caller);
  requireAdminister(caller, teamId, 'WebhookDelivery');
  const { task } = await enqueueDelivery(message.id, { ownerId: caller.userId, teamId }, deps);
  return { webhookId: `msg_${message.id}`, taskId: task.id };
}

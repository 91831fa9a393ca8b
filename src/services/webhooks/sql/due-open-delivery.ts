// A message's open delivery (its webhook_delivery task PENDING, a retry waiting perhaps, or
// RUNNING), made due now: what a redelivery sends instead of a second task beside it. The
// message's row is locked first (as recordAttempt locks it), so two redeliveries at once see
// each other's task: the second finds the first's open one.
import type { Transaction } from '../../../platform/db.js';
import { webhookDelivery } from '../tasks/spec.js';

/** The open delivery's task id, now due; undefined when none is open. */
export async function dueOpenDelivery(
  tx: Transaction,
  messageId: string,
): Promise<string | undefined> {
  await tx.client.$executeRaw`
    SELECT 1 FROM webhook_messages WHERE id = ${messageId}::uuid FOR NO KEY UPDATE`;
  const [open] = await tx.client.$queryRaw<Array<{ id: string }>>`
    UPDATE tasks SET "runAt" = least("runAt", now())
    WHERE type = ${webhookDelivery.name} AND status IN ('PENDING', 'RUNNING')
      AND payload->>'messageId' = ${messageId}
    RETURNING id`;
  return open?.id;
}

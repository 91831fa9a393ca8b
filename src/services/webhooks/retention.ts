// Retention: webhook messages older than WEBHOOK_RETENTION_DAYS (and, by cascade, their
// attempts), and attempts of that age without a message (recorded before messages existed).
// By createdAt and deliveredAt, each indexed.
import type { Queryable } from '../../platform/db.js';

export async function deleteExpiredWebhooks(
  client: Queryable,
  retentionDays: number,
): Promise<number> {
  const messages = await client.$executeRaw`
    DELETE FROM webhook_messages WHERE "createdAt" < now() - ${retentionDays} * interval '1 day'`;
  const attempts = await client.$executeRaw`
    DELETE FROM webhook_deliveries
    WHERE "deliveredAt" < now() - ${retentionDays} * interval '1 day' AND "messageId" IS NULL`;
  return messages + attempts;
}

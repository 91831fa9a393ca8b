// Idempotency keys are remembered for 24 h: an older task lets go of its key, so that the key
// can name a new task (run before the insert, in the same transaction when there is one).
import type { Queryable } from '../platform/db.js';

export async function releaseStaleIdempotencyKey(
  client: Queryable,
  ownerId: string,
  key: string,
): Promise<void> {
  await client.$executeRaw`
    UPDATE tasks SET "idempotencyKey" = NULL
    WHERE "ownerId" = ${ownerId}::uuid AND "idempotencyKey" = ${key} AND "createdAt" < now() - interval '24 hours'`;
}

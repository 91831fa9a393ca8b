// Idempotency keys, per owner: the same key within 24 h names the task it named first, so a
// retried request does not run twice (as Stripe's Idempotency-Key).
import { db, type Queryable } from '../platform/db.js';
import { BadInputError } from '../platform/errors.js';

const MAX_IDEMPOTENCY_KEY = 200;

/**
 * The key to store: trimmed, none when blank, BAD_USER_INPUT when too long, naming
 * `input.idempotencyKey` (where every mutation that takes a key has it).
 */
export function idempotencyKeyOf(raw: string | null | undefined): string | null {
  const key = raw?.trim() || null;
  if (key && key.length > MAX_IDEMPOTENCY_KEY)
    throw new BadInputError(
      `idempotencyKey must be at most ${MAX_IDEMPOTENCY_KEY} characters`,
      { field: 'idempotencyKey' },
      'input.idempotencyKey',
    );
  return key;
}

/** The owner's task of the last 24 h that the key names, if any. */
export function taskOfIdempotencyKey(ownerId: string, key: string) {
  return db().task.findFirst({
    where: {
      ownerId,
      idempotencyKey: key,
      createdAt: { gte: new Date(Date.now() - 24 * 3600_000) },
    },
    select: { id: true, type: true, topicId: true },
  });
}

/**
 * An older task lets go of its key, so that the key can name a new task (run before the
 * insert, in the same transaction when there is one).
 */
export async function releaseStaleIdempotencyKey(
  client: Queryable,
  ownerId: string,
  key: string,
): Promise<void> {
  await client.$executeRaw`
    UPDATE tasks SET "idempotencyKey" = NULL
    WHERE "ownerId" = ${ownerId}::uuid AND "idempotencyKey" = ${key} AND "createdAt" < now() - interval '24 hours'`;
}

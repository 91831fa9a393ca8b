// A provider key the provider refused (401/403) is skipped by every router until it is rotated.
import { inTransaction } from '../platform/db.js';
import type { PubSub } from '../platform/pubsub.js';
import { announceLlmConfigChanged } from './catalog.js';
import { auditKey } from './key-audit.js';

/**
 * The provider answered 401/403 with this key: skipped until rotated. Only the secret the call
 * used (by fingerprint) is marked: a call on the old secret that fails after a rotation does
 * not mark the new one.
 */
export async function markKeyRejected(
  key: { id: string; teamId: string | null; fingerprint: string },
  status: number | undefined,
  pubsub: PubSub,
) {
  const marked = await inTransaction(async ({ client }) => {
    const { count } = await client.providerKey.updateMany({
      where: { id: key.id, fingerprint: key.fingerprint, rejectedAt: null },
      data: { rejectedAt: new Date() },
    });
    if (count === 0) return false;
    await auditKey(client, key, 'REJECT', undefined, `HTTP ${status ?? '?'}`);
    return true;
  });
  if (marked) await announceLlmConfigChanged(pubsub, key.teamId);
}

// The vault's keys as a whole: the operator's rewrap of every key (and every webhook
// endpoint's secret) under the newest master key.
import { db, inTransaction } from '../../platform/db.js';
import { conflict, forbidden } from '../../platform/errors.js';
import { publicId } from '../../platform/public-ids.js';
import { rewrap, secretBinding, VaultError } from '../../platform/vault.js';
import type { Caller } from '../auth/caller.js';
import { announceLlmConfigChanged } from '../../llm/catalog.js';
import { auditKey } from '../../llm/key-audit.js';
import { planPluginSecretRewrap } from '../plugins/rewrap.js';
import { planEndpointRewrap } from '../webhooks/rewrap.js';
import type { VaultDeps } from './provider-keys.js';

/**
 * Every key's data key rewrapped under the keyring's newest master key (the operator's), all in
 * one transaction, or none: a key the keyring cannot open is CONFLICT KEYS_UNREADABLE (naming
 * them in `keyIds`) and nothing changes, so a rewrap never leaves the vault half moved.
 */
export async function rewrapProviderKeys(caller: Caller, deps: VaultDeps): Promise<number> {
  if (!caller.isOperator) throw forbidden('Only the operator (ADMIN_API_KEY) rewraps the vault');
  const keys = await db().providerKey.findMany({
    select: { id: true, teamId: true, secretBox: true, wrappedKey: true, masterKeyVersion: true },
  });
  const unreadable: string[] = [];
  const moves = keys.flatMap((key) => {
    const sealed = {
      secretBox: Buffer.from(key.secretBox),
      wrappedKey: Buffer.from(key.wrappedKey),
      masterKeyVersion: key.masterKeyVersion,
    };
    try {
      const next = rewrap(deps.keyring, sealed, secretBinding(key.teamId, key.id));
      return next ? [{ key, next }] : [];
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      unreadable.push(key.id);
      return [];
    }
  });
  // Webhook endpoints' secrets are sealed by the same vault: they move with the keys.
  const endpoints = await planEndpointRewrap(deps.keyring);
  // And plugins' secrets.
  const plugins = await planPluginSecretRewrap(deps.keyring);
  if (unreadable.length || endpoints.unreadable.length || plugins.unreadable.length)
    throw conflict(
      `The keyring cannot open ${unreadable.length} provider key(s), ` +
        `${endpoints.unreadable.length} webhook endpoint secret(s) and the secrets of ` +
        `${plugins.unreadable.length} plugin(s); none rewrapped`,
      {
        reason: 'KEYS_UNREADABLE',
        keyIds: unreadable.map((id) => publicId('ProviderKey', id)),
        webhookEndpointIds: endpoints.unreadable.map((id) => publicId('WebhookEndpoint', id)),
        pluginInstallationIds: plugins.unreadable.map((id) => publicId('PluginInstallation', id)),
      },
    );
  await inTransaction(async (tx) => {
    const { client } = tx;
    await endpoints.write(tx);
    await plugins.write(tx);
    for (const { key, next } of moves) {
      await client.providerKey.update({
        where: { id: key.id },
        data: { wrappedKey: next.wrappedKey, masterKeyVersion: next.masterKeyVersion },
      });
      await auditKey(
        client,
        key,
        'REWRAP',
        caller,
        `${key.masterKeyVersion} → ${next.masterKeyVersion}`,
      );
    }
  });
  await announceLlmConfigChanged(deps.pubsub, null);
  return moves.length;
}

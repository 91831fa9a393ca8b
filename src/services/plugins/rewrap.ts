// The vault's rewrap, for plugins' secrets: each data key wrapped again by the newest master
// key, as provider keys and webhook endpoint secrets are (src/services/llm/vault-keys.ts runs
// all three in one transaction).
import type { Transaction } from '../../platform/db.js';
import { db } from '../../platform/db.js';
import { rewrap, VaultError, type Keyring } from '../../platform/vault.js';
import { pluginSecretBinding } from './secrets.js';

export interface PluginSecretRewrap {
  /** Installations with a secret the keyring cannot open (nothing is rewrapped then). */
  unreadable: string[];
  /** Writes the rewrapped data keys in the caller's transaction; how many secrets. */
  write(tx: Transaction): Promise<number>;
}

export async function planPluginSecretRewrap(keyring: Keyring): Promise<PluginSecretRewrap> {
  const secrets = await db().pluginSecret.findMany({
    include: { installation: { select: { teamId: true } } },
  });
  const unreadable = new Set<string>();
  const moves = secrets.flatMap((secret) => {
    const sealed = {
      secretBox: Buffer.from(secret.secretBox),
      wrappedKey: Buffer.from(secret.wrappedKey),
      masterKeyVersion: secret.masterKeyVersion,
    };
    const binding = pluginSecretBinding(
      secret.installation.teamId,
      secret.installationId,
      secret.name,
    );
    try {
      const next = rewrap(keyring, sealed, binding);
      return next ? [{ secret, next }] : [];
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      unreadable.add(secret.installationId);
      return [];
    }
  });
  return {
    unreadable: [...unreadable],
    async write(tx) {
      for (const { secret, next } of moves)
        await tx.client.pluginSecret.update({
          where: {
            installationId_name: { installationId: secret.installationId, name: secret.name },
          },
          data: { wrappedKey: next.wrappedKey, masterKeyVersion: next.masterKeyVersion },
        });
      return moves.length;
    },
  };
}

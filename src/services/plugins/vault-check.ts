// At start-up, as for provider keys and webhook endpoint secrets: the keyring must open every
// plugin's secrets, or its requests could never be rendered. Production refuses to start (one
// line); elsewhere the plugins are named in a warning and their calls fail.
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup-failure.js';
import { openSecret, VaultError, type Keyring } from '../../platform/vault.js';
import { pluginSecretBinding } from './secrets.js';

/** The installations with a secret this keyring cannot open. */
export async function unopenablePlugins(keyring: Keyring): Promise<string[]> {
  const secrets = await db().pluginSecret.findMany({
    include: { installation: { select: { teamId: true } } },
  });
  const unopenable = new Set<string>();
  for (const secret of secrets) {
    try {
      openSecret(
        keyring,
        {
          secretBox: Buffer.from(secret.secretBox),
          wrappedKey: Buffer.from(secret.wrappedKey),
          masterKeyVersion: secret.masterKeyVersion,
        },
        pluginSecretBinding(secret.installation.teamId, secret.installationId, secret.name),
      );
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      unopenable.add(secret.installationId);
    }
  }
  return [...unopenable];
}

export async function checkPluginSecrets(keyring: Keyring, nodeEnv: string): Promise<void> {
  const unopenable = await unopenablePlugins(keyring);
  if (unopenable.length === 0) return;
  const problem = `KEY_VAULT_MASTER_KEYS cannot open the secrets of ${unopenable.length} plugin(s)`;
  if (nodeEnv === 'production') throw new StartupError(problem);
  logger.warn({ plugins: unopenable }, `key vault: ${problem}; their requests fail`);
}

// The key vault at start-up: KEY_VAULT_MASTER_KEYS, or outside production a
// development keyring in DATA_DIR (said in the log). The keyring must open every stored
// provider key: in production the service refuses to start otherwise (one line, exit 1);
// elsewhere the keys it cannot open are named in a warning and skipped by the router.
import type { Config } from '../platform/config.js';
import { developmentKeyring } from '../platform/dev-keyring.js';
import { logger } from '../platform/logger.js';
import { StartupError } from '../platform/startup-failure.js';
import { canOpen, secretBinding, type Keyring } from '../platform/vault.js';
import { db } from '../platform/db.js';

export async function openVault(
  config: Pick<Config, 'nodeEnv' | 'dataDir' | 'llm'>,
): Promise<Keyring> {
  let keyring = config.llm.keyring;
  if (!keyring) {
    const generated = await developmentKeyring(config.dataDir);
    logger.warn(
      { file: generated.file },
      'key vault: development keyring (KEY_VAULT_MASTER_KEYS is unset); production needs the variable',
    );
    keyring = generated;
  }
  const unopenable = await unopenableKeys(keyring);
  if (unopenable.length === 0) return keyring;
  const versions = [...new Set(unopenable.map((key) => key.masterKeyVersion))].join(', ');
  const problem =
    `KEY_VAULT_MASTER_KEYS cannot open ${unopenable.length} stored provider key(s) (wrapped ` +
    `by ${versions})`;
  if (config.nodeEnv === 'production') throw new StartupError(problem);
  logger.warn({ keys: unopenable.map((key) => key.id) }, `key vault: ${problem}; they are skipped`);
  return keyring;
}

/** Start-up: the stored keys this keyring cannot open (production refuses to start with any). */
export async function unopenableKeys(
  keyring: Keyring,
): Promise<Array<{ id: string; masterKeyVersion: string }>> {
  const keys = await db().providerKey.findMany({
    select: { id: true, teamId: true, secretBox: true, wrappedKey: true, masterKeyVersion: true },
  });
  return keys
    .filter(
      (key) =>
        !canOpen(
          keyring,
          {
            secretBox: Buffer.from(key.secretBox),
            wrappedKey: Buffer.from(key.wrappedKey),
            masterKeyVersion: key.masterKeyVersion,
          },
          secretBinding(key.teamId, key.id),
        ),
    )
    .map(({ id, masterKeyVersion }) => ({ id, masterKeyVersion }));
}

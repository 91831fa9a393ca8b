// The key vault at start-up (issue 29): KEY_VAULT_MASTER_KEYS, or outside production a
// development keyring in DATA_DIR (said in the log). The keyring must open every stored
// provider key: in production the service refuses to start otherwise (one line, exit 1);
// elsewhere the keys it cannot open are named in a warning and skipped by the router.
import type { Config } from '../../platform/config.js';
import { developmentKeyring } from '../../platform/dev-keyring.js';
import { logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup-failure.js';
import type { Keyring } from '../../platform/vault.js';
import { unopenableKeys } from './vault-keys.js';

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
  const problem = `KEY_VAULT_MASTER_KEYS cannot open ${unopenable.length} stored provider key(s) (wrapped by ${versions})`;
  if (config.nodeEnv === 'production') throw new StartupError(problem);
  logger.warn({ keys: unopenable.map((key) => key.id) }, `key vault: ${problem}; they are skipped`);
  return keyring;
}

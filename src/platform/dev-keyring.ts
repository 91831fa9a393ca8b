// Outside production without KEY_VAULT_MASTER_KEYS: a development keyring kept in the data
// folder (made on first use, mode 0600), so provider keys survive a restart. Production
// never gets here (the configuration requires the variable there).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyringText, parseKeyring, type Keyring } from './vault.js';

export async function developmentKeyring(dataDir: string): Promise<Keyring & { file: string }> {
  const file = path.join(dataDir, 'key-vault-master-keys');
  if (!existsSync(file)) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${generateKeyringText()}\n`, { mode: 0o600 });
  }
  const keyring = parseKeyring((await readFile(file, 'utf8')).trim());
  return { ...keyring, generated: true, file };
}

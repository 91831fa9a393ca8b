// Outside production without DOWNLOAD_LINK_SECRET: a secret made on first use and kept in the
// data folder (mode 0600), so signed download links survive a restart and every process on
// this DATA_DIR signs alike. Production never gets here (the configuration requires the variable).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function developmentDownloadLinkSecret(
  dataDir: string,
): Promise<{ secret: string; file: string }> {
  const file = path.join(dataDir, 'download-link-secret');
  if (!existsSync(file)) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    }).catch((error: NodeJS.ErrnoException) => {
      // Another process on this DATA_DIR made it first: read theirs.
      if (error.code !== 'EEXIST') throw error;
    });
  }
  return { secret: (await readFile(file, 'utf8')).trim(), file };
}

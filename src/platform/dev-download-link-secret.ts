// Outside production without DOWNLOAD_LINK_SECRET: a secret made on first use and kept in the
// data folder (mode 0600), so signed download links survive a restart and every process on
// this DATA_DIR signs alike. Production never gets here (the configuration requires the variable).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function developmentDownloadLinkSecret(
  dataDir: string,
): Promise<{ secret: string; file: string }> {
  const file = path.join(dataDir, 'download-link-secret');
  if (!existsSync(file)) {
    await mkdir(dataDir, { recursive: true });
    // Written whole under a name of its own, then linked into place: a process starting at the
    // same moment finds either no file or a complete one, and the first link wins.
    const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
    await writeFile(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    await link(draft, file)
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      })
      .finally(() => unlink(draft));
  }
  return { secret: (await readFile(file, 'utf8')).trim(), file };
}

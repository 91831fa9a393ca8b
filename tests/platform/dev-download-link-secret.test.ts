// The development download-link secret: made once in DATA_DIR (mode 0600), the same for every
// process on it afterwards, and for processes that start at the same moment.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { developmentDownloadLinkSecret } from '../../src/platform/dev-download-link-secret.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'download-link-secret-'));
  dirs.push(dir);
  return path.join(dir, 'data');
}

describe('developmentDownloadLinkSecret', () => {
  it('is made once, private to its owner, and read back after', async () => {
    const dir = await dataDir();
    const first = await developmentDownloadLinkSecret(dir);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    expect((await developmentDownloadLinkSecret(dir)).secret).toBe(first.secret);
    expect((await developmentDownloadLinkSecret(await dataDir())).secret).not.toBe(first.secret);
  });

  it('is one secret for processes that start together', async () => {
    const dir = await dataDir();
    const secrets = await Promise.all(
      Array.from({ length: 8 }, () => developmentDownloadLinkSecret(dir)),
    );
    expect(new Set(secrets.map((each) => each.secret)).size).toBe(1);
  });
});

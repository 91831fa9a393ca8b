// As root the embedded PostgreSQL runs as the `postgres` user: a data folder inside a private
// folder (a checkout in root's home, mode 0700) moves to a shared one, named after DATA_DIR.
// (The whole start from such a folder was run by hand: see the README's notes.)
import { mkdtemp, readFile, rm, mkdir, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  reachableByOthers,
  reachableDatabaseDir,
} from '../../src/platform/embedded-postgres-reach.js';

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function tempDir(mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reach-'));
  await chmod(dir, mode);
  made.push(dir);
  return dir;
}

describe('embedded PostgreSQL folders', () => {
  it('keeps DATA_DIR/postgres when others can reach it', async () => {
    const open = await tempDir(0o755);
    const dataDir = path.join(open, '.data');
    await mkdir(dataDir);
    expect(reachableByOthers(path.join(dataDir, 'postgres'))).toBe(true);
    expect(await reachableDatabaseDir(dataDir, await tempDir(0o755))).toBe(
      path.join(dataDir, 'postgres'),
    );
  });

  it('moves the data of a private folder to a shared one, the same one every start, and says where', async () => {
    const privateHome = await tempDir(0o700);
    const dataDir = path.join(privateHome, 'checkout', '.data');
    await mkdir(dataDir, { recursive: true });
    expect(reachableByOthers(path.join(dataDir, 'postgres'))).toBe(false);
    const shared = await tempDir(0o755);
    const first = await reachableDatabaseDir(dataDir, shared);
    expect(first.startsWith(shared)).toBe(true);
    expect(reachableByOthers(first)).toBe(true);
    expect(await reachableDatabaseDir(dataDir, shared)).toBe(first);
    expect((await readFile(path.join(dataDir, 'postgres-location'), 'utf8')).trim()).toBe(first);
  });
});

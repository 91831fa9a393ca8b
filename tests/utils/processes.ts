// Child processes for cross-process tests: a worker, or a private Redis server that a
// test may kill and restart without disturbing anything else on the machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Harness } from './harness.js';
import { freePort } from '../../src/platform/free-port.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface Child {
  process: ChildProcess;
  ready: Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Follows a child until its output matches `readyPattern`; killed (SIGKILL) at the end of the file. */
export function track(child: ChildProcess, readyPattern: RegExp, h: Harness): Child {
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = readyPattern.exec(output);
      if (match) resolve(match[0]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`child exited with ${code} before it was ready:\n${output}`)),
    );
  });
  ready.catch(() => {});
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  h.onCleanup(() => kill('SIGKILL'));
  return { process: child, ready, kill };
}

export function spawnWorkerProcess(
  h: Harness,
  env: { redisUrl?: string | null; idleInTransactionTimeoutMs?: number } = {},
): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'tests/utils/worker-process.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: h.databaseUrl,
        REDIS_URL: env.redisUrl ?? '',
        PUBSUB_PREFIX: h.pubsubPrefix,
        LOG_LEVEL: 'warn',
        // test_kills_its_worker may kill this process, never the test runner (test-tasks.ts).
        TEST_WORKER_PROCESS: '1',
        ...(env.idleInTransactionTimeoutMs === undefined
          ? {}
          : { DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(env.idleInTransactionTimeoutMs) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return track(child, /ready \S+/, h);
}

/** The service as `npm start` runs it (src/main.ts) on the test database, without Redis, with `env` on top. */
export function spawnServiceProcess(
  h: Harness,
  env: Record<string, string>,
  readyPattern: RegExp,
): Child {
  const { REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...inherited,
      DATABASE_URL: h.databaseUrl,
      PUBSUB_PREFIX: h.pubsubPrefix,
      LOG_LEVEL: 'info',
      // Off unless the test sets them (the service's default is 60 a minute per key).
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_OPEN_SUBSCRIPTIONS_PER_KEY: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, readyPattern, h);
}

/** `npm start` as a newcomer runs it (scripts/start.mjs), without DATABASE_URL and REDIS_URL. */
export function spawnStart(h: Harness, env: Record<string, string>, readyPattern: RegExp): Child {
  const { DATABASE_URL: _database, REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    cwd: root,
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, readyPattern, h);
}

export const redisServerAvailable = spawnSync('redis-server', ['--version']).status === 0;

/** A throw-away redis-server on an ephemeral port (no persistence). */
export async function startPrivateRedis(
  h: Harness,
  port?: number,
): Promise<Child & { url: string; port: number }> {
  const chosen = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tracked = track(child, /Ready to accept connections/, h);
  await tracked.ready;
  return { ...tracked, url: `redis://127.0.0.1:${chosen}`, port: chosen };
}

// `npm run bench -- startup`: how long a process takes to be useful. The API (ROLE=api): from
// spawn to /ready answering 200; a worker (ROLE=worker): from spawn to its first claim of a
// waiting task. The compiled service (`npm run build`, NODE_ENV=production: what operators
// run) cold (the first start after the build) and warm, the sources through tsx (what
// `npm start` runs without NODE_ENV=production), and the same run's `node -e ""` as the
// baseline. Target: the compiled API ready within 1.5 s of the baseline.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { connectDatabase, db, disconnectDatabase } from '../src/platform/db.js';
import { insertTask } from '../src/queue/insert-task.js';
import { formatSummary, heading, line, summarize } from './stats.js';
import { openTaskBenchDatabase } from './tasks/database.js';
import { benchAgent } from './tasks/fixture.js';
import { freePort } from '../src/platform/free-port.js';
import { WORKER_NODE_ARGS } from '../src/platform/heap-growth.js';

const root = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const TARGET_OVER_BASELINE_MS = 1_500;

/** Milliseconds from spawn until `ready()` says yes; the process is stopped after. */
async function timeStart(
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      if (await ready().catch(() => false)) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const baseline = async () => {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '']);
  return performance.now() - started;
};

/** Timed starts of an API (until /ready) and of a worker (until it claims a task waiting for it). */
async function starters(databaseUrl: string) {
  const { agentId, ownerId } = await benchAgent();
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: 'bench-admin-key-0123456789',
    WEBHOOK_SECRET: 'whsec_YmVuY2ggd2ViaG9vayBzZWNyZXQ=',
    DOWNLOAD_LINK_SECRET: 'bench-download-link-secret-0123456789',
    KEY_VAULT_MASTER_KEYS: `v1:${Buffer.alloc(32, 7).toString('base64')}`,
  };
  const api = async (entry: string[], extra: Record<string, string> = {}) => {
    const port = await freePort();
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200;
    return timeStart(entry, { ...env, ...extra, ROLE: 'api', PORT: String(port) }, ready);
  };
  const worker = async (entry: string[], extra: Record<string, string> = {}) => {
    const { task } = await insertTask(db(), {
      type: 'coverage_refresh',
      priority: 'HIGH',
      payload: { agentId: Buffer.from(agentId, 'base64').toString().split(':')[1] },
      maxAttempts: 1,
      timeoutSeconds: 60,
      ownerId,
    });
    const claimed = async () =>
      (await db().task.findUniqueOrThrow({ where: { id: task.id } })).status !== 'PENDING';
    return timeStart(entry, { ...env, ...extra, ROLE: 'worker' }, claimed);
  };
  return { api, worker };
}

export async function benchStartup(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 2 });
  try {
    const { api, worker } = await starters(database.url);
    heading(
      `startup (spawn to /ready for the API, spawn to the first claim for a worker; ${RUNS} warm runs each)`,
    );
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
    const compiled = [path.join(root, 'dist/main.js')];
    // A worker as `npm run worker` starts it: with its young generation's flags.
    const compiledWorker = [...WORKER_NODE_ARGS, ...compiled];
    const sources = [path.join(root, 'scripts/start.mjs')];
    const cold = { api: await api(compiled), worker: await worker(compiledWorker) };
    const runs = async (run: () => Promise<number>) => {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await run());
      return summarize(samples);
    };
    const base = await runs(baseline);
    const warmApi = await runs(() => api(compiled));
    const warmWorker = await runs(() => worker(compiledWorker));
    const tsxApi = await runs(() => api(sources, { NODE_ENV: 'development' }));
    line('baseline: node -e ""', formatSummary(base));
    line('API compiled, cold (first start after the build)', `${cold.api.toFixed(0)} ms`);
    line('API compiled, warm', formatSummary(warmApi));
    line('worker compiled, cold (first claim)', `${cold.worker.toFixed(0)} ms`);
    line('worker compiled, warm (first claim)', formatSummary(warmWorker));
    line('API from sources through tsx (npm start in development)', formatSummary(tsxApi));
    const over = warmApi.p50 - base.p50;
    line(
      `TARGET API ready within ${TARGET_OVER_BASELINE_MS} ms of the baseline`,
      `p50 ${over.toFixed(0)} ms over (cold ${(cold.api - base.p50).toFixed(0)} ms): ${over <= TARGET_OVER_BASELINE_MS && cold.api - base.p50 <= TARGET_OVER_BASELINE_MS ? 'MET' : 'MISSED'}`,
    );
  } finally {
    await disconnectDatabase();
    await database.stop();
  }
}

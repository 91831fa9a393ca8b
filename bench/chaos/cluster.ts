// The chaos run's processes: a private Redis, 1 API and WORKERS workers (bench/chaos/worker.ts)
// on loopback, and how to kill, replace and stop them.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { db } from '../../src/platform/db.js';
import { freePort } from '../../src/platform/free-port.js';
import { start, startRedis } from '../spawn.js';
import { ADMIN_KEY, LEASE_MS, WORKERS, type Kill } from './settings.js';

const startApi = (env: Record<string, string>, port: number) =>
  start(
    process.execPath,
    ['scripts/start.mjs'],
    { ...env, ROLE: 'api', PORT: String(port) },
    /GraphiQL/,
  );

/** The processes under test, and how to kill, replace and stop them. */
export async function startCluster(databaseUrl: string) {
  const redisPort = await freePort();
  let redis = await startRedis(redisPort);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_API_KEY: ADMIN_KEY,
    TASK_LEASE_MS: String(LEASE_MS),
    TASK_POLL_MS: '500',
    WORKFLOW_RECONCILE_MS: '1000',
    PUBSUB_PREFIX: 'chaos:',
  };
  const children = new Set<ChildProcess>();
  const spawnWorker = async () => {
    const worker = await start(
      process.execPath,
      ['--import', 'tsx', 'bench/chaos/worker.ts'],
      { ...env, WORKER_CONCURRENCY: '4' },
      /^ready /m,
    );
    children.add(worker);
    return worker;
  };
  const apiPort = await freePort();
  children.add(await startApi(env, apiPort));
  const workers = await Promise.all(Array.from({ length: WORKERS }, spawnWorker));
  return {
    redisUrl,
    apiPort,
    /** SIGKILLs a random worker (saying which tasks it was running) and starts another. */
    async killWorker(): Promise<Kill> {
      const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0]!;
      const running = await db().task.findMany({
        where: { status: 'RUNNING', lockedBy: { contains: `:${victim.pid}:` } },
        select: { id: true },
      });
      victim.kill('SIGKILL');
      children.delete(victim);
      const kill = { at: new Date(), taskIds: running.map((task) => task.id) };
      workers.push(await spawnWorker());
      return kill;
    },
    async bounceRedis() {
      redis.kill('SIGKILL');
      await sleep(3_000);
      redis = await startRedis(redisPort);
    },
    stop() {
      for (const child of children) child.kill('SIGKILL');
      redis.kill('SIGKILL');
    },
  };
}

/**
 * Every `everyMs` a worker of the cluster killed, Redis killed and restarted after the second
 * kill, until `open()` counts nothing left or `deadline` (epoch ms) passes: the kills.
 */
export async function killUntilDone(
  cluster: Awaited<ReturnType<typeof startCluster>>,
  open: () => Promise<number>,
  everyMs: number,
  deadline: number,
): Promise<Kill[]> {
  const kills: Kill[] = [];
  while ((await open()) > 0 && Date.now() <= deadline) {
    await sleep(everyMs);
    kills.push(await cluster.killWorker());
    if (kills.length === 2) await cluster.bounceRedis();
  }
  return kills;
}

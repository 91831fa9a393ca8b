// `npm run chaos`: 1 API and 3 worker processes on one PostgreSQL and a private Redis, loopback
// only. CHAOS_TASKS tasks (a few hundred ms each) are enqueued; every CHAOS_KILL_EVERY_MS a
// random worker is SIGKILLed and replaced, and Redis is SIGKILLed once and restarted. Sample
// tasks are followed by graphql-sse subscribers through the API. Prints tasks lost, stuck,
// run twice, event-log gaps, and kill → reclaim → rerun times; exits 1 when a target is missed
// (0, 0, 0, 0; rerun within 2 × TASK_LEASE_MS). Bounded by CHAOS_DEADLINE_S.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createClient } from 'graphql-sse';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/platform/ids.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { enqueue } from '../../src/workers/queue/enqueue.js';
import { openFreshBenchDatabase } from '../database.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { benchAgent } from '../tasks/fixture.js';
import { chaosStep } from './tasks.js';

const root = path.resolve(import.meta.dirname, '../..');
const TASKS = Number(process.env.CHAOS_TASKS ?? 1_000);
const WORKERS = 3;
const KILL_EVERY_MS = Number(process.env.CHAOS_KILL_EVERY_MS ?? 3_000);
const DEADLINE_S = Number(process.env.CHAOS_DEADLINE_S ?? 300);
const LEASE_MS = Number(process.env.CHAOS_LEASE_MS ?? 3_000);
const SUBSCRIBERS = Math.min(50, TASKS);
const ADMIN_KEY = 'chaos-admin-key-0123456789';
const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process, resolved once a line of its output matches `ready`. */
function start(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve(child);
    });
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)),
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Kill {
  at: Date;
  taskIds: string[];
}

/** Sample tasks followed through the API: each subscriber must see every sequence, in order, to the end. */
function followThroughApi(
  apiPort: number,
  ids: string[],
): { seen: Map<string, number[]>; done: Promise<unknown>; close(): void } {
  const seen = new Map<string, number[]>();
  const sse = createClient({
    url: `http://127.0.0.1:${apiPort}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    retryAttempts: 20,
  });
  const followed = ids.slice(0, SUBSCRIBERS).map(
    (id) =>
      new Promise<void>((resolve) => {
        const sequences: number[] = [];
        seen.set(id, sequences);
        sse.subscribe<{ taskProgress: { sequence: number } }>(
          {
            query:
              'subscription($id: ID!) { taskProgress(taskId: $id, afterSequence: 0) { sequence status } }',
            variables: { id: toGlobalId('Task', id) },
          },
          {
            next: (result) => result.data && sequences.push(result.data.taskProgress.sequence),
            error: () => resolve(),
            complete: () => resolve(),
          },
        );
      }),
  );
  return {
    seen,
    done: Promise.race([Promise.all(followed), sleep(10_000)]),
    close: () => sse.dispose(),
  };
}

/** The processes under test, and how to kill, replace and stop them. */
async function startCluster(databaseUrl: string) {
  const redisPort = await freePort();
  const startRedis = () =>
    start(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
      /Ready to accept/,
    );
  let redis = await startRedis();
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_API_KEY: ADMIN_KEY,
    TASK_LEASE_MS: String(LEASE_MS),
    TASK_POLL_MS: '500',
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
  children.add(
    await start(
      process.execPath,
      ['scripts/start.mjs'],
      { ...env, ROLE: 'api', PORT: String(apiPort) },
      /GraphiQL/,
    ),
  );
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
      redis = await startRedis();
    },
    stop() {
      for (const child of children) child.kill('SIGKILL');
      redis.kill('SIGKILL');
    },
  };
}

export async function runChaos(): Promise<boolean> {
  const database = await openFreshBenchDatabase('agent_growth_chaos');
  connectDatabase(database.url, { poolSize: 5 });
  const cluster = await startCluster(database.url);
  const pubsub = createRedisPubSub(cluster.redisUrl, 'chaos:');
  try {
    const { agentId, ownerId } = await benchAgent();
    const agentRowId = Buffer.from(agentId, 'base64').toString().split(':')[1]!;
    heading(
      `chaos (${TASKS} tasks, 1 API + ${WORKERS} workers, a worker SIGKILLed every ${KILL_EVERY_MS} ms, Redis SIGKILLed once, lease ${LEASE_MS} ms)`,
    );
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const { task } = await enqueue(
        chaosStep,
        { payload: { agentId: agentRowId, ms: 200 + ((i * 37) % 400) }, ownerId },
        { pubsub },
      );
      ids.push(task.id);
    }
    const followers = followThroughApi(cluster.apiPort, ids);
    const kills: Kill[] = [];
    const deadline = Date.now() + DEADLINE_S * 1_000;
    for (;;) {
      const open = await db().task.count({
        where: { id: { in: ids }, status: { notIn: TERMINAL as never } },
      });
      if (open === 0 || Date.now() > deadline) break;
      await sleep(KILL_EVERY_MS);
      kills.push(await cluster.killWorker());
      if (kills.length === 2) await cluster.bounceRedis();
    }
    await followers.done;
    followers.close();
    return await report(ids, kills, followers.seen);
  } finally {
    cluster.stop();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

async function report(ids: string[], kills: Kill[], seen: Map<string, number[]>): Promise<boolean> {
  const rows = await db().task.findMany({
    where: { id: { in: ids } },
    select: { id: true, status: true, attempts: true, lastSequence: true },
  });
  const lost = ids.length - rows.length;
  const stuck = rows.filter((row) => !TERMINAL.includes(row.status)).length;
  const twice = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (SELECT "taskId" FROM task_events WHERE "taskId" = ANY(${ids}::uuid[]) AND status = 'COMPLETED' GROUP BY "taskId" HAVING count(*) > 1) twice`;
  const histories = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (SELECT "taskId" FROM coverage_history WHERE "taskId" = ANY(${ids}::uuid[]) GROUP BY "taskId" HAVING count(*) > 1) twice`;
  const gaps = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (
      SELECT t.id FROM tasks t JOIN task_events e ON e."taskId" = t.id WHERE t.id = ANY(${ids}::uuid[])
      GROUP BY t.id, t."lastSequence" HAVING count(*) <> t."lastSequence" OR min(e.sequence) <> 1 OR max(e.sequence) <> t."lastSequence") gapped`;
  const subscriberGaps = [...seen.entries()].filter(([id, sequences]) => {
    const last = rows.find((row) => row.id === id)?.lastSequence ?? 0;
    return sequences.length !== last || sequences.some((sequence, i) => sequence !== i + 1);
  }).length;
  const reclaims: number[] = [];
  const reruns: number[] = [];
  for (const kill of kills) {
    for (const taskId of kill.taskIds) {
      const after = await db().taskEvent.findMany({
        where: { taskId, at: { gt: kill.at } },
        orderBy: { sequence: 'asc' },
        select: { at: true, message: true },
      });
      const reclaimed = after.find((event) => event.message?.startsWith('lease expired'));
      const rerun = after.find((event) => event.message?.startsWith('attempt '));
      if (reclaimed) reclaims.push(reclaimed.at.getTime() - kill.at.getTime());
      if (rerun) reruns.push(rerun.at.getTime() - kill.at.getTime());
    }
  }
  const caught = kills.reduce((n, kill) => n + kill.taskIds.length, 0);
  const completed = rows.filter((row) => row.status === 'COMPLETED').length;
  line(
    'kills',
    `${kills.length} worker SIGKILLs caught ${caught} running tasks; Redis SIGKILLed and restarted once`,
  );
  line(
    'tasks',
    `${ids.length} enqueued, ${completed} COMPLETED, ${rows.filter((row) => row.attempts > 1).length} needed more than one attempt`,
  );
  const maxRerun = reruns.length ? Math.max(...reruns) : 0;
  const checks: Array<[string, number, boolean]> = [
    ['tasks lost', lost, lost === 0],
    ['tasks stuck (not finished by the deadline)', stuck, stuck === 0],
    [
      'tasks run twice (two COMPLETED, or two history entries)',
      Number(twice[0]!.n) + Number(histories[0]!.n),
      Number(twice[0]!.n) + Number(histories[0]!.n) === 0,
    ],
    ['tasks with event-log gaps', Number(gaps[0]!.n), Number(gaps[0]!.n) === 0],
    [
      `subscribers (of ${seen.size}) that missed or repeated a sequence`,
      subscriberGaps,
      subscriberGaps === 0,
    ],
    [
      `slowest kill → rerun, ms (target <= 2 x ${LEASE_MS})`,
      Math.round(maxRerun),
      maxRerun <= 2 * LEASE_MS,
    ],
  ];
  if (reclaims.length) line('kill → reclaim', formatSummary(summarize(reclaims)));
  if (reruns.length) line('kill → rerun', formatSummary(summarize(reruns)));
  for (const [label, value, met] of checks) line(label, `${value}: ${met ? 'MET' : 'MISSED'}`);
  return checks.every(([, , met]) => met);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runChaos().then(
    (met) => process.exit(met ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

// `npm run bench -- queue`: no-op tasks through the whole engine (claim, run, finish,
// events, pub/sub) with 1 and 2 worker processes: throughput and add→start latency.
// Baseline (same run): the bare claim + finish SQL in a tight loop, one connection.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createPubSub, type PubSub } from '../../src/platform/pubsub.js';
import { claimNextTask } from '../../src/queue/claim.js';
import { finishTask } from '../../src/queue/finish.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { wakeWorkers } from '../../src/queue/signals.js';
import { heading, line, ms } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { noop } from './noop.js';
import { spawnBenchScript, type BenchChild } from './processes.js';

const PREFILL = Number(process.env.BENCH_QUEUE_TASKS ?? 20_000);
const RATE_PER_SECOND = Number(process.env.BENCH_QUEUE_RATE ?? 500);
const RATE_SECONDS = 5;
// Slots per worker process (WORKER_CONCURRENCY; 4 is the service's default); each level runs
// with 1 and 2 processes. No-op tasks take no time, so a process's throughput is its slots
// divided by the time one finish-and-claim statement takes (Little's law).
const CONCURRENCY_LEVELS = (process.env.BENCH_QUEUE_CONCURRENCY ?? '4,8,32').split(',').map(Number);

async function prefill(count: number): Promise<void> {
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId")
    SELECT 'noop', '{}'::jsonb, 1, 1, 'queued', (SELECT id FROM teams WHERE slug = 'default')
    FROM generate_series(1, ${count})`;
  // What autovacuum does within a minute of such a burst (the migration tunes it for tasks).
  await db().$executeRaw`ANALYZE tasks`;
}

async function waitUntilDone(): Promise<void> {
  for (;;) {
    const [{ left }] = await db().$queryRaw<
      [{ left: number }]
    >`SELECT count(*)::int AS left FROM tasks WHERE status IN ('PENDING', 'RUNNING')`;
    if (left === 0) return;
    await sleep(100);
  }
}

async function baseline(): Promise<number> {
  await prefill(2_000);
  const workerId = `baseline:${randomUUID()}`;
  const started = performance.now();
  let done = 0;
  for (;;) {
    const task = await claimNextTask(db(), workerId, ['noop'], 10_000);
    if (!task) break;
    await finishTask(db(), task.id, workerId, {
      status: 'COMPLETED',
      result: null,
      message: 'completed',
    });
    done++;
  }
  return done / ((performance.now() - started) / 1000);
}

/** The queue database and pub/sub every worker process of the run connects to. */
interface QueueBench {
  databaseUrl: string;
  redisUrl: string | undefined;
  prefix: string;
  pubsub: PubSub;
}

/** One measured configuration: `processes` worker processes with `concurrency` slots each. */
interface Level {
  processes: number;
  concurrency: number;
}

const levelLabel = (level: Level) =>
  `${level.processes} worker process(es) x ${level.concurrency} slots`;

function spawnWorkers(bench: QueueBench, level: Level): BenchChild[] {
  return Array.from({ length: level.processes }, () =>
    spawnBenchScript('bench/tasks/worker-process.ts', {
      DATABASE_URL: bench.databaseUrl,
      REDIS_URL: bench.redisUrl ?? '',
      PUBSUB_PREFIX: bench.prefix,
      WORKER_CONCURRENCY: String(level.concurrency),
      TASK_POLL_MS: bench.redisUrl ? '1000' : '50',
    }),
  );
}

// Throughput: a backlog drained by the workers.
async function measureThroughput(bench: QueueBench, level: Level, bare: number): Promise<void> {
  await prefill(PREFILL);
  await wakeWorkers(bench.pubsub, noop.name);
  await waitUntilDone();
  const [drain] = await db().$queryRaw<[{ seconds: number; done: number }]>`
    SELECT extract(epoch FROM max("completedAt") - min("startedAt"))::float8 AS seconds, count(*)::int AS done
    FROM tasks WHERE status = 'COMPLETED'`;
  if (drain.done !== PREFILL) {
    const statuses = await db().$queryRaw<
      Array<{ status: string; n: number; error: string | null }>
    >`
      SELECT status::text, count(*)::int AS n, min(error) AS error FROM tasks GROUP BY status`;
    line('NOT ALL TASKS COMPLETED', JSON.stringify(statuses));
  }
  const rate = drain.done / drain.seconds;
  line(
    `${levelLabel(level)}: throughput`,
    `${rate.toFixed(0)} tasks/s (${drain.done} tasks in ${drain.seconds.toFixed(2)} s) = ${(rate / bare).toFixed(2)}x baseline; target >= 3000/s: ${rate >= 3000 ? 'MET' : 'MISSED'}`,
  );
  await db().$executeRaw`TRUNCATE tasks CASCADE`;
}

// Latency: tasks added one by one at a steady rate to idle workers.
async function measureLatency(bench: QueueBench, level: Level): Promise<void> {
  const owner = await db().user.upsert({
    where: { name: 'bench' },
    create: { name: 'bench' },
    update: {},
  });
  const total = RATE_PER_SECOND * RATE_SECONDS;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    await enqueue(noop, { payload: {}, ownerId: owner.id, teamId: null }, { pubsub: bench.pubsub });
    const due = started + ((i + 1) * 1000) / RATE_PER_SECOND;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await waitUntilDone();
  const [latency] = await db().$queryRaw<[{ p50: number; p99: number; max: number }]>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
    FROM (SELECT extract(epoch FROM "startedAt" - "createdAt") * 1000 AS ms FROM tasks WHERE status = 'COMPLETED') t`;
  line(
    `${levelLabel(level)}: add->start at ${RATE_PER_SECOND}/s`,
    `p50=${ms(latency.p50)} p99=${ms(latency.p99)} max=${ms(latency.max)}; target p99 < 10 ms: ${latency.p99 < 10 ? 'MET' : 'MISSED'}`,
  );
  await db().$executeRaw`TRUNCATE tasks CASCADE`;
}

/** Throughput, then latency, with the level's own worker processes. */
async function measureLevel(bench: QueueBench, level: Level, bare: number): Promise<void> {
  const workers = spawnWorkers(bench, level);
  try {
    await Promise.all(workers.map((w) => w.waitFor(/ready \S+/)));
    await measureThroughput(bench, level, bare);
    await measureLatency(bench, level);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

export async function benchQueue(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  const redisUrl = process.env.REDIS_URL;
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const pubsub = createPubSub(redisUrl, prefix);
  heading('queue (no-op tasks through the engine)');
  line(
    'pub/sub between processes',
    redisUrl ? `Redis ${redisUrl} (push wake-ups)` : 'none: workers poll every 50 ms',
  );
  const bench: QueueBench = { databaseUrl: database.url, redisUrl, prefix, pubsub };
  try {
    const bare = await baseline();
    line('baseline: bare claim+finish SQL, 1 connection', `${bare.toFixed(0)} tasks/s`);
    await db().$executeRaw`TRUNCATE tasks CASCADE`;

    for (const concurrency of CONCURRENCY_LEVELS)
      for (const processes of [1, 2]) await measureLevel(bench, { processes, concurrency }, bare);
  } finally {
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

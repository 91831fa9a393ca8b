// `npm run bench -- queue`: no-op tasks through the whole engine (claim, run, record, events,
// pub/sub) in worker processes at the default settings, beside two peers on the same
// PostgreSQL and Redis: BullMQ (Redis) and graphile-worker in its batched mode (a local queue
// and batched completion, PostgreSQL). Rounds rotate the engines' order; medians and ratios
// at the end. Each engine drains a backlog twice, by a new process and again by the same one
// (throughput warm, the target's figure, and the CPU PostgreSQL and Node spent per task), then
// takes tasks added one by one at a steady rate (add→start).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultTaskEngineSizes } from '../../src/platform/config.js';
import { connectDatabase, db, disconnectDatabase, poolQueryable } from '../../src/platform/db.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { claimTasks } from '../../src/queue/claim.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { wakeWorkers } from '../../src/queue/signals.js';
import { writeTaskChanges } from '../../src/queue/write-changes.js';
import { databaseNow } from '../database.js';
import { cpuSince, cpuTicks, formatCpuPer, type CpuUsed } from '../host-cpu.js';
import { heading, line, median, ms, summarize } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { noop } from './noop.js';
import {
  bullmqEngine,
  graphileEngine,
  type Drained,
  type Drains,
  type Latency,
  type LatencyParts,
  type QueueEngine,
} from './peers/engines.js';
import { spawnBenchScript, spawnWorkerScript } from './processes.js';
import {
  paced,
  RATE_PER_SECOND,
  STEADY_TASKS,
  WARM_UP_LABEL,
  WARM_UP_TASKS,
} from './steady-rate.js';

const TASKS = Number(process.env.BENCH_QUEUE_TASKS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_QUEUE_ROUNDS ?? 3);
/** BENCH_QUEUE_ENGINES=ours,bullmq: only the engines whose names hold one of these (profiling). */
const ONLY = process.env.BENCH_QUEUE_ENGINES?.split(',').filter(Boolean);
/** BENCH_QUEUE_LATENCY_ONLY=1: the add→start phases alone, no drains (and its target's line). */
const LATENCY_ONLY = process.env.BENCH_QUEUE_LATENCY_ONLY === '1';

interface Bench {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  pubsub: ReturnType<typeof createPubSub>;
}

/** `count` runnable no-op tasks in the `default` team. */
export async function prefill(count: number): Promise<void> {
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId")
    SELECT 'noop', '{}'::jsonb, 1, 1, 'queued', (SELECT id FROM teams WHERE slug = 'default')
    FROM generate_series(1, ${count})`;
  // What autovacuum does within a minute of such a burst (the migration tunes it for tasks).
  await db().$executeRaw`ANALYZE tasks`;
}

/**
 * `count` finished no-op tasks of an hour ago, analyzed: the table as a service keeps it
 * (finished tasks stay for the retention period). On a table emptied just before, the
 * worker's first statements cache generic plans costed for a page or two, which scan the
 * whole table by the time it holds a few thousand tasks, until autovacuum's first analyze
 * (up to a minute) replaces them (bench/README.md, "Queue").
 */
async function finishedHistory(count: number): Promise<void> {
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, "maxAttempts", "lastSequence", "currentStep", "teamId", status,
                       attempts, "createdAt", "startedAt", "completedAt")
    SELECT 'noop', '{}'::jsonb, 1, 2, 'done', (SELECT id FROM teams WHERE slug = 'default'),
           'COMPLETED', 1, now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
    FROM generate_series(1, ${count})`;
  await db().$executeRaw`ANALYZE tasks`;
}

/** Until no task is left to run (each probe reads the partial indexes only: cheap). */
async function waitUntilDone(): Promise<void> {
  for (;;) {
    const [{ open }] = await db().$queryRaw<[{ open: boolean }]>`
      SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'PENDING')
          OR EXISTS (SELECT 1 FROM tasks WHERE status = 'RUNNING') AS open`;
    if (!open) return;
    await sleep(50);
  }
}

/** The bare statements, one task at a time on one connection: what a round trip costs. */
async function bareSql(): Promise<number> {
  await prefill(2_000);
  const workerId = `baseline:${randomUUID()}`;
  const claim = { types: ['noop'], leaseMs: 10_000, limit: 1, startNow: 1 };
  const backoff = { baseMs: 1_000, maxMs: 60_000, maxLeaseLosses: 3, maxPostponements: 3 };
  const started = performance.now();
  let done = 0;
  for (;;) {
    const [task] = await claimTasks(db(), workerId, claim);
    if (!task) break;
    const end = { kind: 'COMPLETED' as const, taskId: task.id, attempt: task.attempts };
    await writeTaskChanges(db(), workerId, [{ ...end, result: null, message: 'done' }], backoff);
    done++;
  }
  await db().$executeRaw`TRUNCATE tasks CASCADE`;
  return done / ((performance.now() - started) / 1000);
}

/** The drain's figures from the completed tasks' own times, with the CPU it took. */
async function drainedSince(cpu: CpuUsed | undefined): Promise<Drained> {
  const [drain] = await db().$queryRaw<[{ seconds: number; done: number }]>`
    SELECT extract(epoch FROM max("completedAt") - min("startedAt"))::float8 AS seconds,
           count(*)::int AS done
    FROM tasks WHERE status = 'COMPLETED'`;
  return { tasks: drain.done, seconds: drain.seconds, cpu };
}

/** Our engine: `processes` worker processes at the default settings (sized to this machine). */
function ourEngine(bench: Bench, processes: number): QueueEngine {
  const spawnWorkers = () =>
    Array.from({ length: processes }, () =>
      spawnWorkerScript('bench/tasks/worker-process.ts', {
        DATABASE_URL: bench.databaseUrl,
        REDIS_URL: bench.redisUrl,
        PUBSUB_PREFIX: bench.prefix,
      }),
    );
  const withWorkers = async <T>(run: () => Promise<T>): Promise<T> => {
    const workers = spawnWorkers();
    try {
      await Promise.all(workers.map((w) => w.waitFor(/ready \S+/)));
      return await run();
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await db().$executeRaw`TRUNCATE tasks CASCADE`;
    }
  };
  return {
    name: processes === 1 ? 'ours, 1 worker (defaults)' : `ours, ${processes} workers (defaults)`,
    drain: () =>
      withWorkers(async () => {
        const once = async () => {
          await prefill(TASKS);
          const before = cpuTicks();
          await wakeWorkers(bench.pubsub, noop.name);
          await waitUntilDone();
          const drained = await drainedSince(cpuSince(before));
          await db().$executeRaw`TRUNCATE tasks CASCADE`;
          return drained;
        };
        return { first: await once(), warm: await once() };
      }),
    latency: () => withWorkers(() => addToStart(bench)),
  };
}

/**
 * add→start at RATE_PER_SECOND through whichever worker is running (its wake-ups by our
 * enqueue's signal), the first WARM_UP_TASKS left out, in parts (LatencyParts).
 */
async function addToStart(bench: Bench): Promise<Latency & { parts: LatencyParts }> {
  const owner = await db().user.upsert({
    where: { name: 'bench' },
    create: { name: 'bench' },
    update: {},
  });
  await finishedHistory(TASKS);
  // The host's own round trip at the same pace, the worker idle: a floor under both parts.
  const roundTrips = await paced(1_000, () => poolQueryable().$queryRaw`SELECT 1`);
  // And a one-row insert's commit (its WAL flushed, as the add's is): the disk's part.
  const commits = await paced(
    1_000,
    () => poolQueryable().$executeRaw`INSERT INTO bench_commits DEFAULT VALUES`,
  );
  const since = await databaseNow();
  // Each add's own time, and when it returned (this process's clock, ms since the epoch).
  const returnedAt = new Map<string, number>();
  const before = cpuTicks();
  const addMs = await paced(STEADY_TASKS, async () => {
    const { task } = await enqueue(
      noop,
      { payload: {}, ownerId: owner.id, teamId: null },
      { pubsub: bench.pubsub },
    );
    returnedAt.set(task.id, Date.now());
  });
  await waitUntilDone();
  const cpu = cpuSince(before);
  // The counted tasks read once: their percentiles (interpolated, as ever) and each start; and
  // the warm-up's own p99.
  const [latency] = await db().$queryRaw<
    [
      {
        p50: number;
        p99: number;
        startP99: number;
        starts: Array<{ id: string; startedAt: number }>;
      },
    ]
  >`
    WITH every AS MATERIALIZED (
      SELECT id, extract(epoch FROM "startedAt" - "createdAt") * 1000 AS ms,
             (extract(epoch FROM "startedAt") * 1000)::float8 AS "startedAt",
             row_number() OVER (ORDER BY "createdAt", id) > ${WARM_UP_TASKS} AS counted
      FROM tasks WHERE status = 'COMPLETED' AND "createdAt" >= ${since}
    )
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE counted) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE counted) AS p99,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT counted)
             AS "startP99",
           coalesce(json_agg(json_build_object('id', id, 'startedAt', "startedAt"))
             FILTER (WHERE counted), '[]') AS starts
    FROM every`;
  const { starts, ...percentiles } = latency;
  const afterAdd = starts.map(({ id, startedAt }) => startedAt - returnedAt.get(id)!);
  return {
    ...percentiles,
    parts: {
      add: summarize(addMs.slice(WARM_UP_TASKS)),
      afterAdd: summarize(afterAdd),
      roundTrip: summarize(roundTrips),
      commit: summarize(commits),
      cpu: cpu && { used: cpu, tasks: STEADY_TASKS },
    },
  };
}

/** `run` with a floor worker (peers/floor-worker.ts) up, `env` its mode; the tasks emptied after. */
async function withFloorWorker<T>(
  bench: Bench,
  env: Record<string, string>,
  run: () => Promise<T>,
): Promise<T> {
  const worker = spawnBenchScript('bench/tasks/peers/floor-worker.ts', {
    DATABASE_URL: bench.databaseUrl,
    ...env,
  });
  try {
    await worker.waitFor(/^ready$/m);
    return await run();
  } finally {
    await worker.stop();
    await db().$executeRaw`TRUNCATE tasks CASCADE`;
  }
}

/**
 * The floor of our tables' design (peers/floor-worker.ts): drained as ours is, by a new process
 * only (it starts on the backlog at once; its Node side is a tenth of ours); and add→start as
 * ours is measured, each wake-up answered by a claim at once: what the design's durable add,
 * a Redis hop and one claim cost on this host, with no engine around them.
 */
function floorEngine(bench: Bench): QueueEngine {
  return {
    name: 'floor: our statements alone (node-postgres, batch 512)',
    drain: async (): Promise<Drains> => {
      await prefill(TASKS);
      return withFloorWorker(bench, {}, async () => {
        const before = cpuTicks();
        await waitUntilDone();
        return { first: await drainedSince(cpuSince(before)) };
      });
    },
    latency: () =>
      withFloorWorker(
        bench,
        { REDIS_URL: bench.redisUrl, WAKE_CHANNEL: `${bench.prefix}taskReady:queue` },
        () => addToStart(bench),
      ),
  };
}

/**
 * The same floor woken by PostgreSQL instead (add→start only): a statement trigger on `tasks`
 * notifies at the add's commit and the floor worker LISTENs, so the wake-up needs neither the
 * add's answer nor Redis (graphile-worker's path): the fewest hops a durable add in PostgreSQL
 * can take to a claim that it waits for.
 */
function notifiedFloorEngine(bench: Bench): QueueEngine {
  return {
    name: 'floor woken by PostgreSQL (NOTIFY at the commit)',
    latency: async () => {
      await db().$executeRawUnsafe(`
        CREATE OR REPLACE FUNCTION bench_floor_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('bench_floor_ready', ''); RETURN NULL; END $$`);
      await db().$executeRawUnsafe(`
        CREATE OR REPLACE TRIGGER bench_floor_notify AFTER INSERT ON tasks
        FOR EACH STATEMENT EXECUTE FUNCTION bench_floor_notify()`);
      try {
        return await withFloorWorker(bench, { NOTIFY_CHANNEL: 'bench_floor_ready' }, () =>
          addToStart(bench),
        );
      } finally {
        await db().$executeRawUnsafe('DROP TRIGGER bench_floor_notify ON tasks');
      }
    },
  };
}

const perTask = (cpu: CpuUsed | undefined, tasks: number, key: keyof CpuUsed) =>
  cpu ? `${((cpu[key] / tasks) * 1e6).toFixed(0)} µs` : 'n/a';

function drained(name: string, result: Drained): number {
  const rate = result.tasks / result.seconds;
  const cpu = result.cpu
    ? `; CPU per task: PostgreSQL ${perTask(result.cpu, result.tasks, 'postgres')}, ` +
      `Node ${perTask(result.cpu, result.tasks, 'node')}, ` +
      `other ${perTask(result.cpu, result.tasks, 'other')}`
    : '';
  line(
    name,
    `${rate.toFixed(0)} tasks/s (${result.tasks} in ${result.seconds.toFixed(2)} s)${cpu}`,
  );
  return rate;
}

function latencyParts(name: string, { add, afterAdd, roundTrip, commit, cpu }: LatencyParts): void {
  line(
    `${name}: add->start in parts`,
    `the add p50=${ms(add.p50)} p99=${ms(add.p99)}; ` +
      `from its return to the start p50=${ms(afterAdd.p50)} p99=${ms(afterAdd.p99)}; ` +
      `at that pace, the worker idle: SELECT 1 p50=${ms(roundTrip.p50)} p99=${ms(roundTrip.p99)}, ` +
      `a one-row insert's commit p50=${ms(commit.p50)} p99=${ms(commit.p99)}`,
  );
  if (cpu)
    line(`${name}: host CPU a task at ${RATE_PER_SECOND}/s`, formatCpuPer(cpu.used, cpu.tasks));
}

/** The bench's pool, and the table of the add→start's commit floor (ourEngine's latency). */
async function connectQueueBench(url: string): Promise<void> {
  connectDatabase(url, { poolSize: 10 });
  await db().$executeRaw`CREATE TABLE IF NOT EXISTS bench_commits (at timestamptz DEFAULT now())`;
}

/** One engine's round: its drains (if any) and its add→start (if any), printed and kept. */
async function measure(
  engine: QueueEngine,
  figures: {
    firstRates: Map<string, number[]>;
    warmRates: Map<string, number[]>;
    latencies: Map<string, Latency[]>;
  },
): Promise<void> {
  const drains = LATENCY_ONLY ? undefined : await engine.drain?.();
  if (drains)
    figures.firstRates
      .get(engine.name)!
      .push(drained(`${engine.name}: throughput, new process`, drains.first));
  if (drains?.warm)
    figures.warmRates
      .get(engine.name)!
      .push(drained(`${engine.name}: throughput, warm`, drains.warm));
  if (!engine.latency) return;
  const latency = await engine.latency();
  figures.latencies.get(engine.name)!.push(latency);
  line(
    `${engine.name}: add->start at ${RATE_PER_SECOND}/s`,
    `p50=${ms(latency.p50)} p99=${ms(latency.p99)}; ${WARM_UP_LABEL} p99=${ms(latency.startP99)}`,
  );
  if (latency.parts) latencyParts(engine.name, latency.parts);
}

export async function benchQueue(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    line('queue', 'skipped: REDIS_URL is not set (BullMQ, the peer, needs Redis)');
    return;
  }
  const database = await openTaskBenchDatabase();
  await connectQueueBench(database.url);
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const pubsub = createPubSub(redisUrl, prefix);
  const bench: Bench = { databaseUrl: database.url, redisUrl, prefix, pubsub };
  const sizes = defaultTaskEngineSizes();
  heading('queue (no-op tasks through the engine, beside BullMQ and graphile-worker)');
  line('defaults on this machine', `${sizes.concurrency} slots, claim batch ${sizes.batchSize}`);
  const ours = ourEngine(bench, 1);
  const bullmq = bullmqEngine(redisUrl, TASKS);
  const graphile = graphileEngine(database.url, TASKS);
  const floor = floorEngine(bench);
  const notifiedFloor = notifiedFloorEngine(bench);
  const engines = [ours, bullmq, graphile, ourEngine(bench, 2), floor, notifiedFloor];
  const runs = (engine: QueueEngine) =>
    !ONLY || ONLY.some((name) => engine.name.toLowerCase().includes(name.toLowerCase()));
  // Each engine's drains by a new process, and warm (none for the floor).
  const firstRates = new Map<string, number[]>(engines.map((engine) => [engine.name, []]));
  const warmRates = new Map<string, number[]>(engines.map((engine) => [engine.name, []]));
  // Each engine's add→start, a round each (ours' in parts: the add, the part before the worker
  // can know, and the rest).
  const latencies = new Map<string, Latency[]>(engines.map((engine) => [engine.name, []]));
  const latency = (engine: QueueEngine, pick: (latency: Latency) => number) =>
    median(latencies.get(engine.name)!.map(pick));
  try {
    // A throughput baseline (2,000 tasks one at a time): not for the add→start phases alone.
    if (!LATENCY_ONLY)
      line(
        'baseline: bare claim + record, one task at a time',
        `${(await bareSql()).toFixed(0)} tasks/s`,
      );
    for (let round = 0; round < ROUNDS; round++) {
      heading(`queue: round ${round + 1} of ${ROUNDS}`);
      // Rotated: each engine runs early and late once in three rounds.
      const order = engines.map((_, i) => engines[(i + round) % engines.length]!);
      for (const engine of order.filter(runs))
        await measure(engine, { firstRates, warmRates, latencies });
    }
    heading(`queue: medians of ${ROUNDS} rounds`);
    const warm = (engine: QueueEngine) => median(warmRates.get(engine.name)!);
    const first = (engine: QueueEngine) => median(firstRates.get(engine.name)!);
    for (const engine of engines.filter(runs))
      line(
        engine.name,
        [
          warmRates.get(engine.name)!.length ? `${warm(engine).toFixed(0)} tasks/s warm` : '',
          firstRates.get(engine.name)!.length ? `${first(engine).toFixed(0)} by a new process` : '',
          engine.latency
            ? `add->start p99 ${ms(latency(engine, (l) => l.p99))} ` +
              `(${WARM_UP_LABEL} ${ms(latency(engine, (l) => l.startP99))})`
            : '',
        ]
          .filter(Boolean)
          .join('; '),
      );
    if (ONLY) return;
    if (!LATENCY_ONLY) printThroughputTargets({ ours, bullmq, graphile, floor }, { warm, first });
    printLatencyTarget({ ours, bullmq, graphile, floor, notifiedFloor }, latency);
  } finally {
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

/** The throughput target and what stands beside it: the rounds' medians (warm, first). */
function printThroughputTargets(
  engines: Record<'ours' | 'bullmq' | 'graphile' | 'floor', QueueEngine>,
  { warm, first }: Record<'warm' | 'first', (engine: QueueEngine) => number>,
): void {
  const { ours, bullmq, graphile, floor } = engines;
  // Exactly `defaults: <n> tasks/s`, unpadded: the line a reader (or a script) looks for.
  console.log(`defaults: ${warm(ours).toFixed(0)} tasks/s`);
  line(
    'TARGET defaults vs BullMQ (warm)',
    `${(warm(ours) / warm(bullmq)).toFixed(2)}x (target >= 1.0x): ` +
      (warm(ours) >= warm(bullmq) ? 'MET' : 'MISSED'),
  );
  line('defaults vs BullMQ, each a new process', `${(first(ours) / first(bullmq)).toFixed(2)}x`);
  line(
    'defaults vs graphile-worker (batched)',
    `${(warm(ours) / warm(graphile)).toFixed(2)}x warm, ` +
      `${(first(ours) / first(graphile)).toFixed(2)}x each a new process`,
  );
  line(
    'floor (our statements alone) vs BullMQ',
    `${(first(floor) / first(bullmq)).toFixed(2)}x; defaults vs floor ` +
      `${(first(ours) / first(floor)).toFixed(2)}x (each a new process)`,
  );
}

/** The add→start target and what stands beside it: the rounds' medians (`latency`). */
function printLatencyTarget(
  engines: Record<'ours' | 'bullmq' | 'graphile' | 'floor' | 'notifiedFloor', QueueEngine>,
  latency: (engine: QueueEngine, pick: (latency: Latency) => number) => number,
): void {
  const { ours, bullmq, graphile, floor, notifiedFloor } = engines;
  const p99 = latency(ours, (l) => l.p99);
  line(
    `TARGET add->start p99 at ${RATE_PER_SECOND}/s`,
    `${ms(p99)} (target <= 5 ms): ${p99 <= 5 ? 'MET' : 'MISSED'}; ` +
      `the add alone p99 ${ms(latency(ours, (l) => l.parts!.add.p99))}, a one-row ` +
      `insert's commit alone p99 ${ms(latency(ours, (l) => l.parts!.commit.p99))}, ` +
      `the floor's add->start p99 ${ms(latency(floor, (l) => l.p99))}, woken by ` +
      `PostgreSQL ${ms(latency(notifiedFloor, (l) => l.p99))} (medians of rounds)`,
  );
  line(
    `add->start p99, ${WARM_UP_LABEL}`,
    `ours ${ms(latency(ours, (l) => l.startP99))}, BullMQ ` +
      `${ms(latency(bullmq, (l) => l.startP99))}, graphile-worker ` +
      `${ms(latency(graphile, (l) => l.startP99))} (medians of rounds; not in the target)`,
  );
}

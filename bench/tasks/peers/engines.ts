// The queue benchmark's peers, each drained and timed as ours is: BullMQ (one worker process,
// concurrency 50, on the same Redis) and graphile-worker in its batched mode (one runner
// process, concurrency 24, a local queue of 500 and batched completion, on the same
// PostgreSQL, in its own schema).
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { makeWorkerUtils } from 'graphile-worker';
import { cpuSince, cpuTicks, type CpuUsed } from '../../host-cpu.js';
import { summarize, type Summary } from '../../stats.js';
import { spawnBenchScript, type BenchChild } from '../processes.js';
import { STEADY_TASKS, steadily, WARM_UP_TASKS } from '../steady-rate.js';

export interface Drained {
  tasks: number;
  seconds: number;
  cpu: CpuUsed | undefined;
}

/**
 * A backlog drained by a new process (`first`: its code not yet compiled by V8's optimizing
 * tier, its connections not yet open), then the same backlog again by the same process, warm:
 * its throughput, as the add→start phase leaves out each new process's first tasks.
 */
export interface Drains {
  first: Drained;
  /** None for a reference drained by a new process only. */
  warm?: Drained;
}

export interface QueueEngine {
  name: string;
  /** None for a reference of add→start only. */
  drain?(): Promise<Drains>;
  /** add→start at a steady rate; none for a reference that only drains. */
  latency?(): Promise<Latency>;
}

/** add→start (ms) after the warm-up; `startP99`: the warm-up's own (steady-rate.ts). */
export interface Latency {
  p50: number;
  p99: number;
  startP99: number;
  parts?: LatencyParts;
}

/** A latency from every task's add→start in add order (the warm-up's first). */
export function latencyOf(waits: number[]): Latency {
  const { p50, p99 } = summarize(waits.slice(WARM_UP_TASKS));
  return { p50, p99, startP99: summarize(waits.slice(0, WARM_UP_TASKS)).p99 };
}

/**
 * Where an add→start through our enqueue goes (ms; ours' and the floor's): the add itself
 * (insert and commit, seen by the caller), from its return to the claim's start, and a bare
 * round trip at the same pace, the worker idle.
 */
export interface LatencyParts {
  add: Summary;
  afterAdd: Summary;
  roundTrip: Summary;
  /** A one-row insert's commit, the worker idle: the floor a durable add stands on. */
  commit: Summary;
  /** The host's CPU over the adds at that pace (the adding process's included), and their count. */
  cpu?: { used: CpuUsed; tasks: number };
}

const ADD_CHUNK = 1_000;

interface BullmqReport {
  first: number;
  last: number;
  done: number;
  waits: number[];
}

export function bullmqEngine(redisUrl: string, tasks: number): QueueEngine {
  const run = async <T>(
    expected: number,
    work: (queue: Queue, worker: BenchChild) => Promise<T>,
  ): Promise<T> => {
    const name = `bench-${Date.now()}`;
    const queue = new Queue(name, { connection: { url: redisUrl } });
    const worker = spawnBenchScript('bench/tasks/peers/bullmq-worker.ts', {
      QUEUE: name,
      EXPECT: String(expected),
      REDIS_URL: redisUrl,
      CONCURRENCY: '50',
    });
    try {
      await worker.waitFor(/^ready$/m);
      return await work(queue, worker);
    } finally {
      await worker.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  };
  /** The worker's report on the next `expected` jobs, printed after `since`. */
  const report = async (worker: BenchChild, since: number) =>
    JSON.parse(await worker.waitFor(/^\{.*\}$/m, since)) as BullmqReport;
  return {
    name: 'BullMQ (concurrency 50)',
    drain: () =>
      run(tasks, async (queue, worker) => {
        const once = async (): Promise<Drained> => {
          // Paused while the backlog is added, as ours is inserted before the workers wake.
          await queue.pause();
          for (let i = 0; i < tasks; i += ADD_CHUNK)
            await queue.addBulk(
              Array.from({ length: Math.min(ADD_CHUNK, tasks - i) }, () => ({
                name: 'noop',
                data: {},
              })),
            );
          const since = worker.output().length;
          const before = cpuTicks();
          await queue.resume();
          const drained = await report(worker, since);
          // While the worker process still runs: its CPU counts.
          const cpu = cpuSince(before);
          return { tasks: drained.done, seconds: (drained.last - drained.first) / 1000, cpu };
        };
        return { first: await once(), warm: await once() };
      }),
    latency: () =>
      run(STEADY_TASKS, async (queue, worker) => {
        const since = worker.output().length;
        await steadily(() => queue.add('noop', {}));
        // In start order, which at this rate is add order.
        return latencyOf((await report(worker, since)).waits);
      }),
  };
}

export function graphileEngine(databaseUrl: string, tasks: number): QueueEngine {
  type Utils = Awaited<ReturnType<typeof makeWorkerUtils>>;
  const addJobs = (utils: Utils, count: number) =>
    utils.addJobs(Array.from({ length: count }, () => ({ identifier: 'noop', payload: {} })));
  const left = (utils: Utils) =>
    utils.withPgClient(async (client) => {
      const { rows } = await client.query<{ left: number }>(
        'SELECT count(*)::int AS left FROM graphile_worker._private_jobs',
      );
      return rows[0]!.left;
    });
  const withRunner = async <T>(
    work: (utils: Utils, runner: ReturnType<typeof spawnBenchScript>) => Promise<T>,
  ) => {
    const utils = await makeWorkerUtils({ connectionString: databaseUrl });
    await utils.migrate();
    const runner = spawnBenchScript('bench/tasks/peers/graphile-worker.ts', {
      DATABASE_URL: databaseUrl,
      CONCURRENCY: '24',
      LOCAL_QUEUE: '500',
    });
    try {
      await runner.waitFor(/^ready$/m);
      return await work(utils, runner);
    } finally {
      await runner.stop();
      await utils.withPgClient((client) =>
        client.query('DELETE FROM graphile_worker._private_jobs'),
      );
      await utils.release();
    }
  };
  return {
    name: 'graphile-worker (batched, concurrency 24, local queue 500)',
    drain: () =>
      withRunner(async (utils, runner) => {
        const once = async (): Promise<Drained> => {
          const since = runner.output().length;
          // The runner is up and idle; the backlog goes in in one statement, as ours is inserted.
          const before = cpuTicks();
          await addJobs(utils, tasks);
          const first = Number((await runner.waitFor(/^first \d+$/m, since)).split(' ')[1]);
          while ((await left(utils)) > 0) await sleep(10);
          const drained = { tasks, seconds: (Date.now() - first) / 1000, cpu: cpuSince(before) };
          // The runner forgets this drain's first start (and its waits) when asked for them.
          runner.child.kill('SIGUSR2');
          await runner.waitFor(/^\{"waits".*\}$/m, since);
          return drained;
        };
        return { first: await once(), warm: await once() };
      }),
    latency: () =>
      withRunner(async (utils, runner) => {
        await steadily(() => addJobs(utils, 1));
        while ((await left(utils)) > 0) await sleep(10);
        runner.child.kill('SIGUSR2');
        const report = JSON.parse(await runner.waitFor(/^\{"waits".*\}$/m)) as { waits: number[] };
        // In start order, which at this rate is add order.
        return latencyOf(report.waits);
      }),
  };
}

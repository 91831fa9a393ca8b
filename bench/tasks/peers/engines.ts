// The queue benchmark's peers, each drained and timed as ours is: BullMQ (one worker process,
// concurrency 50, on the same Redis) and graphile-worker in its batched mode (one runner
// process, concurrency 24, a local queue of 500 and batched completion, on the same
// PostgreSQL, in its own schema).
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { makeWorkerUtils } from 'graphile-worker';
import { cpuSince, cpuTicks, type CpuUsed } from '../../host-cpu.js';
import { spawnBenchScript } from '../processes.js';
import { STEADY_TASKS, steadily, WARM_UP_TASKS } from '../steady-rate.js';

export interface Drained {
  tasks: number;
  seconds: number;
  cpu: CpuUsed | undefined;
}

export interface QueueEngine {
  name: string;
  drain(): Promise<Drained>;
  /** add→start at a steady rate; none for a reference that only drains. */
  latency?(): Promise<{ p50: number; p99: number }>;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
};

const ADD_CHUNK = 1_000;

export function bullmqEngine(redisUrl: string, tasks: number): QueueEngine {
  const run = async (
    expected: number,
    add: (queue: Queue) => Promise<void>,
    measure: () => void = () => {},
  ) => {
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
      return await add(queue).then(async () => {
        const report = JSON.parse(await worker.waitFor(/^\{.*\}$/m)) as {
          first: number;
          last: number;
          done: number;
          waits: number[];
        };
        // While the worker process still runs: its CPU counts.
        measure();
        return report;
      });
    } finally {
      await worker.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  };
  return {
    name: 'BullMQ (concurrency 50)',
    async drain() {
      let before: ReturnType<typeof cpuTicks>;
      let cpu: CpuUsed | undefined;
      const report = await run(
        tasks,
        async (queue) => {
          // Paused while the backlog is added, as ours is inserted before the workers wake.
          await queue.pause();
          for (let i = 0; i < tasks; i += ADD_CHUNK)
            await queue.addBulk(
              Array.from({ length: Math.min(ADD_CHUNK, tasks - i) }, () => ({
                name: 'noop',
                data: {},
              })),
            );
          before = cpuTicks();
          await queue.resume();
        },
        () => (cpu = cpuSince(before)),
      );
      return { tasks: report.done, seconds: (report.last - report.first) / 1000, cpu };
    },
    async latency() {
      const report = await run(STEADY_TASKS, async (queue) => {
        await steadily(() => queue.add('noop', {}));
      });
      // In start order, which at this rate is add order.
      const waits = report.waits.slice(WARM_UP_TASKS);
      return { p50: percentile(waits, 0.5), p99: percentile(waits, 0.99) };
    },
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
        // The runner is up and idle; the backlog goes in in one statement, as ours is inserted.
        const before = cpuTicks();
        await addJobs(utils, tasks);
        const first = Number((await runner.waitFor(/^first \d+$/m)).split(' ')[1]);
        while ((await left(utils)) > 0) await sleep(10);
        return { tasks, seconds: (Date.now() - first) / 1000, cpu: cpuSince(before) };
      }),
    latency: () =>
      withRunner(async (utils, runner) => {
        await steadily(() => addJobs(utils, 1));
        while ((await left(utils)) > 0) await sleep(10);
        runner.child.kill('SIGUSR2');
        const report = JSON.parse(await runner.waitFor(/^\{"waits".*\}$/m)) as { waits: number[] };
        // In start order, which at this rate is add order.
        const waits = report.waits.slice(WARM_UP_TASKS);
        return { p50: percentile(waits, 0.5), p99: percentile(waits, 0.99) };
      }),
  };
}

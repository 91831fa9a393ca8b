// `npm run bench -- [coverage|search|stream|generate] [--regenerate] [--explain]`
// (no benchmark named: all three). Prints figures, a same-run baseline and the ratio,
// and whether each target is met; never asserts on time.
import os from 'node:os';
import { loadConfig } from '../src/platform/config.js';
import { connectDatabase, db, disconnectDatabase } from '../src/platform/db.js';
import { setHeapGrowingPercent } from '../src/platform/heap-growth.js';
import { ensureCorpus, type Corpus } from './corpus.js';
import { openBenchServer } from './database.js';
import { heading, line, type TargetCheck } from './stats.js';

export interface BenchContext {
  corpus: Corpus;
  url: string;
  /** Print EXPLAIN (ANALYZE, BUFFERS) even when the target is met. */
  alwaysExplain: boolean;
}

type Benchmark = (context: BenchContext) => Promise<TargetCheck[]>;

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  coverage: async () => (await import('./coverage.js')).benchCoverage,
  search: async () => (await import('./search.js')).benchSearch,
  stream: async () => (await import('./stream.js')).benchStream,
};

/** Other processes share the machine: the load is printed with the figures. */
function loadAverage(): string {
  return (
    os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' / ') + ` (1/5/15 min, ${os.cpus().length} cpus)`
  );
}

/** Benchmarks that build their own small database instead of the large corpus. */
const STANDALONE: Record<string, () => Promise<() => Promise<void>>> = {
  queue: async () => (await import('./tasks/queue.js')).benchQueue,
  enqueue: async () => (await import('./tasks/enqueue.js')).benchEnqueue,
  fanout: async () => (await import('./tasks/fanout.js')).benchFanout,
  'h2-floor': async () => (await import('./tasks/h2-floor.js')).benchH2Floor,
  'redis-outage': async () => (await import('./tasks/redis-outage.js')).benchRedisOutage,
  startup: async () => (await import('./startup.js')).benchStartup,
  plan: async () => async () => void (await (await import('./topics/plan.js')).benchTopicsPlan()),
  status: async () => async () =>
    void (await (await import('./topics/status.js')).benchTopicsStatus()),
};

async function machine(): Promise<void> {
  heading('machine');
  line('cpus', `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`);
  line(
    'memory',
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`,
  );
  line('load average', loadAverage());
  line('node', process.version);
  const settings = await db().$queryRaw<
    Array<{
      version: string;
      shared_buffers: string;
      work_mem: string;
      jit: string;
      jit_above_cost: string;
    }>
  >`
    SELECT version(), current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem, current_setting('jit') AS jit, current_setting('jit_above_cost') AS jit_above_cost`;
  const s = settings[0]!;
  line('postgres', s.version.split(' on ')[0]!);
  line(
    'postgres settings',
    `shared_buffers=${s.shared_buffers} work_mem=${s.work_mem} jit=${s.jit} jit_above_cost=${s.jit_above_cost}`,
  );
}

async function main(): Promise<void> {
  // The API runs in this process (enqueue, fanout, ...): the same heap setting as npm start.
  const { heapGrowingPercent } = loadConfig({
    HEAP_GROWING_PERCENT: process.env.HEAP_GROWING_PERCENT,
  });
  setHeapGrowingPercent(heapGrowingPercent);
  line(
    'HEAP_GROWING_PERCENT',
    heapGrowingPercent ? `${heapGrowingPercent} (as npm start)` : "0 (V8's own)",
  );
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((arg) => arg.startsWith('--')));
  const names = args.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter(
    (name) => name !== 'generate' && !(name in BENCHMARKS) && !(name in STANDALONE),
  );
  if (unknown.length) {
    throw new Error(
      `Unknown benchmark ${unknown.join(', ')}: use ${[...Object.keys(BENCHMARKS), ...Object.keys(STANDALONE)].join(', ')} or generate`,
    );
  }
  const selected = names.length
    ? names.filter((name) => name in BENCHMARKS)
    : Object.keys(BENCHMARKS);
  const standalone = names.length
    ? names.filter((name) => name in STANDALONE)
    : Object.keys(STANDALONE);
  for (const name of standalone) {
    await (
      await STANDALONE[name]!()
    )();
    line(`load average after ${name}`, loadAverage());
  }
  if (names.length && selected.length === 0 && !names.includes('generate')) return;

  const server = await openBenchServer();
  const checks: TargetCheck[] = [];
  try {
    const corpus = await ensureCorpus(server, flags.has('--regenerate'));
    connectDatabase(server.url);
    await machine();
    for (const name of selected) {
      const run = await BENCHMARKS[name]!();
      checks.push(
        ...(await run({ corpus, url: server.url, alwaysExplain: flags.has('--explain') })),
      );
      line(`load average after ${name}`, loadAverage());
    }
  } finally {
    await disconnectDatabase();
    await server.stop();
  }
  if (checks.length) {
    heading('targets');
    for (const check of checks)
      line(
        check.label,
        `${check.met ? 'MET   ' : 'MISSED'} ${check.value.toFixed(2)} ms (target < ${check.target} ms)`,
      );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

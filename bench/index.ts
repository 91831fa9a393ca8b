// `npm run bench -- [coverage|search|stream|cache|...|generate] [--regenerate] [--explain]`
// (no benchmark named: all three). Prints figures, a same-run baseline and the ratio,
// and whether each target is met; never asserts on time.
import { loadConfig } from '../src/platform/config.js';
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { setHeapGrowingPercent } from '../src/platform/heap-growth.js';
import type { BenchContext } from './bench-context.js';
import { ensureCorpus } from './corpus.js';
import { openBenchServer } from './database.js';
import { loadAverage, machine } from './machine.js';
import { heading, line, type TargetCheck } from './stats.js';

type Benchmark = (context: BenchContext) => Promise<TargetCheck[]>;

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  coverage: async () => (await import('./coverage.js')).benchCoverage,
  search: async () => (await import('./search.js')).benchSearch,
  stream: async () => (await import('./stream.js')).benchStream,
};

/** Benchmarks that build their own small database instead of the large corpus. */
const STANDALONE: Record<string, () => Promise<() => Promise<void>>> = {
  queue: async () => (await import('./tasks/queue.js')).benchQueue,
  statements: async () => (await import('./tasks/statements.js')).benchStatements,
  enqueue: async () => (await import('./tasks/enqueue.js')).benchEnqueue,
  fanout: async () => (await import('./tasks/fanout.js')).benchFanout,
  'h2-floor': async () => (await import('./tasks/h2-floor.js')).benchH2Floor,
  'redis-outage': async () => (await import('./tasks/redis-outage.js')).benchRedisOutage,
  startup: async () => (await import('./startup.js')).benchStartup,
  demo: async () => (await import('./demo-load.js')).benchDemoLoad,
  plan: async () => async () => void (await (await import('./topics/plan.js')).benchTopicsPlan()),
  status: async () => async () =>
    void (await (await import('./topics/status.js')).benchTopicsStatus()),
  teams: async () => (await import('./teams/run.js')).benchTeams,
  metrics: async () => (await import('./ops/metrics.js')).benchMetrics,
  cache: async () => (await import('./cache.js')).benchCache,
  workflows: async () => (await import('./workflows/run.js')).benchWorkflowsRun,
  llm: async () => (await import('./llm/run.js')).benchLlm,
  platform: async () => (await import('./platform.js')).benchPlatform,
  tracing: async () => (await import('./tracing.js')).benchTracing,
  webhooks: async () => (await import('./webhooks/run.js')).benchWebhooks,
  presence: async () => (await import('./presence.js')).benchPresence,
  incremental: async () => (await import('./incremental.js')).benchIncremental,
};

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
  printTargets(await runOnCorpus(selected, flags));
}

/** The corpus benchmarks, on the generated corpus (made first if missing or asked for). */
async function runOnCorpus(selected: string[], flags: Set<string>): Promise<TargetCheck[]> {
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
  return checks;
}

function printTargets(checks: TargetCheck[]): void {
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

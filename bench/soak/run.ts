// `npm run soak`: the API (ROLE=api) and a worker in their own processes on one PostgreSQL and
// a private Redis, loopback only. SOAK_SUBSCRIPTIONS agentUpdated subscriptions over both
// graphql-sse modes (half single-connection, 100 per connection; half one connection each)
// while updateAgent runs at SOAK_RATE per second for SOAK_SECONDS. Every 10 s it prints the
// API's RSS, and every minute its RSS and heap right after a full collection (through its
// inspector; only in a run long enough to judge their trend: a forced collection stalls the
// API, a cost a short run's latency need not carry). At the end: the event latency (from the
// mutation's send to the event's arrival, after the first minute), errors, subscribers whose
// last event is not their agent's last state (a lost update), and the trend of the collected
// RSS over the last 5 minutes, beside what the host did meanwhile (its CPUs' busy and stolen
// shares, the API's). Exits 1 on a missed target.
import { readFileSync } from 'node:fs';
import { connectDatabase, disconnectDatabase } from '../../src/platform/db.js';
import { openFreshBenchDatabase } from '../database.js';
import { machineSince, machineTicks, processCpuMs } from '../host-cpu.js';
import { loadAverage } from '../machine.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { openInspector, type CollectedMemory } from './collected-memory.js';
import { makeAgents, post, startServices } from './services.js';
import { AGENTS, RATE, SECONDS, SUBSCRIPTIONS, TREND_JUDGED, WARM_UP_S } from './settings.js';
import { subscribeAll } from './subscribers.js';

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Least-squares slope of (t, y), per unit of t. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mt = points.reduce((s, [t]) => s + t, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [t, y]) => s + (t - mt) * (y - my), 0);
  const den = points.reduce((s, [t]) => s + (t - mt) ** 2, 0);
  return den ? num / den : 0;
}

type Inspector = Awaited<ReturnType<typeof openInspector>>;

/**
 * Reads the API's memory after a full collection, in the background (the driver keeps its
 * pace); `stalls` gets the collection's span (ms since the start), which stalls the API.
 */
function sampleCollected(
  inspector: Inspector,
  at: number,
  into: Array<[number, CollectedMemory]>,
  stalls: Array<[number, number]>,
): void {
  const began = Date.now();
  inspector.collectedMemory().then(
    (memory) => {
      stalls.push([at * 1_000, at * 1_000 + (Date.now() - began)]);
      into.push([at, memory]);
      line(
        `t=${Math.round(at)} s after a full collection`,
        `API RSS ${memory.rssMb.toFixed(1)} MB, heap used ${memory.heapUsedMb.toFixed(1)} MB ` +
          `of ${memory.heapTotalMb.toFixed(1)} MB, external ${memory.externalMb.toFixed(1)} MB`,
      );
    },
    (error: unknown) => line('collected memory', `not read: ${String(error)}`),
  );
}

/** updateAgent at RATE per second for SECONDS, round robin over the agents; the API's RSS every 10 s, after a collection every minute. */
async function drive(
  url: string,
  agents: string[],
  api: { pid: number; inspector: Inspector },
  startedAt: number,
  progress: () => string,
) {
  const sentSeq = new Array<number>(AGENTS).fill(-1);
  const run = {
    sent: 0,
    mutationErrors: 0,
    sentSeq,
    rss: [] as Array<[number, number]>,
    collected: [] as Array<[number, CollectedMemory]>,
    /** The forced collections' spans, ms since the start. */
    stalls: [] as Array<[number, number]>,
  };
  const end = startedAt + SECONDS * 1_000;
  let nextRss = startedAt;
  while (Date.now() < end) {
    const tick = Date.now();
    if (tick >= nextRss) {
      const mb = rssMb(api.pid);
      const at = (tick - startedAt) / 1_000;
      run.rss.push([at, mb]);
      line(`t=${Math.round(at)} s`, `API RSS ${mb.toFixed(1)} MB, ${progress()}`);
      if (TREND_JUDGED && run.rss.length % 6 === 1 && run.rss.length > 1)
        sampleCollected(api.inspector, at, run.collected, run.stalls); // every sixth: each minute
      nextRss += 10_000;
    }
    const agent = run.sent % AGENTS;
    const seq = run.sent++;
    sentSeq[agent] = seq;
    post(
      url,
      'mutation($id: ID!, $d: String) { updateAgent(id: $id, input: { scopeDescription: $d }) { id } }',
      { id: agents[agent], d: `soak ${seq} ${Date.now()}` },
    )
      .then((body) => body.errors && run.mutationErrors++)
      .catch(() => run.mutationErrors++);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, 1_000 / RATE - (Date.now() - tick))),
    );
  }
  return run;
}

/**
 * What the machine did during the run, beside the figures: a latency target missed on a host
 * whose hypervisor took a share of its CPUs, or with the API's core full, says so here.
 */
function printHost(
  before: { machine: ReturnType<typeof machineTicks>; apiMs: number | undefined },
  apiPid: number,
  seconds: number,
): void {
  const machine = machineSince(before.machine);
  const apiMs = processCpuMs(apiPid);
  const percent = (share: number) => `${(100 * share).toFixed(1)} %`;
  line(
    'host during the run',
    [
      machine &&
        `CPU busy ${percent(machine.busy)}, stolen by the hypervisor ${percent(machine.steal)}`,
      apiMs !== undefined &&
        before.apiMs !== undefined &&
        `the API ${percent((apiMs - before.apiMs) / 1_000 / seconds)} of a core`,
      `load average ${loadAverage()}`,
    ]
      .filter(Boolean)
      .join('; '),
  );
}

function judge(
  stats: ReturnType<typeof subscribeAll>['stats'],
  run: Awaited<ReturnType<typeof drive>>,
): boolean {
  const missing = stats.subscribers.filter((mine) => mine.seq !== run.sentSeq[mine.agent]);
  if (missing.length) {
    const by = (mode: string) => missing.filter((mine) => mine.mode === mode);
    line(
      '  of which',
      `single-connection ${by('single').length} (${by('single').filter((m) => m.ended).length} ended), distinct ${by('distinct').length} (${by('distinct').filter((m) => m.ended).length} ended)`,
    );
  }
  const warm = stats.latencies.filter(([t]) => t >= WARM_UP_S * 1_000);
  // The soak's own forced collections stall the API (a full, atomic one: V8's own are mostly
  // concurrent): what it held meanwhile arrives late. Judged without the events received
  // during one or in the second after it; both figures printed.
  const stalled = ([t]: [number, number]) =>
    run.stalls.some(([from, to]) => t >= from && t <= to + 1_000);
  const all = summarize(warm.map(([, latency]) => latency));
  const steady = summarize(warm.filter((each) => !stalled(each)).map(([, latency]) => latency));
  // RSS saws up and down with V8's own collections (every 100-200 s here): the trend is that of
  // the RSS right after the soak's full collections, one a minute, over the last five minutes.
  const lastFive = run.collected.filter(([t]) => t >= SECONDS - 300);
  const trend = lastFive.length > 2 ? slope(lastFive.map(([t, m]) => [t, m.rssMb])) * 60 : 0;
  const heapTrend =
    lastFive.length > 2 ? slope(lastFive.map(([t, m]) => [t, m.heapUsedMb])) * 60 : 0;
  line(`event latency after the first ${WARM_UP_S} s`, formatSummary(all));
  if (run.stalls.length)
    line(
      "  outside the soak's forced collections",
      `${formatSummary(steady)}; the collections took ${run.stalls.map(([from, to]) => `${(to - from).toFixed(0)}`).join(', ')} ms`,
    );
  // A state feed sends the agent as it is: updates close together may arrive as one event.
  const expected = run.sent * (SUBSCRIPTIONS / AGENTS);
  line(
    'events received / updates sent × subscribers per agent',
    `${stats.received} / ${expected} (${((100 * stats.received) / expected).toFixed(1)} %)`,
  );
  const errors = stats.errors + run.mutationErrors;
  const checks: Array<[string, string, boolean]> = [
    ['errors (subscriptions and mutations)', String(errors), errors === 0],
    [
      "subscribers whose last event is not their agent's last state",
      String(missing.length),
      missing.length === 0,
    ],
    ['event p99 after warm-up (target < 100 ms)', `${steady.p99.toFixed(1)} ms`, steady.p99 < 100],
    [
      `API RSS trend after full collections over the last ${Math.min(300, SECONDS)} s (target: none upward, < 1 MB/min)`,
      `${trend.toFixed(2)} MB/min (${lastFive.map(([t, m]) => `${m.rssMb.toFixed(0)} MB at ${t.toFixed(0)} s`).join(', ') || 'none'}; heap used ${heapTrend.toFixed(2)} MB/min)${TREND_JUDGED ? '' : ', not judged: run shorter than 10 min'}`,
      !TREND_JUDGED || trend < 1,
    ],
  ];
  for (const [label, value, met] of checks) line(label, `${value}: ${met ? 'MET' : 'MISSED'}`);
  return checks.every(([, , met]) => met);
}

export async function runSoak(): Promise<boolean> {
  const database = await openFreshBenchDatabase('agent_growth_soak');
  connectDatabase(database.url, { poolSize: 2 });
  try {
    const services = await startServices(database.url);
    try {
      const agents = await makeAgents(services.url);
      heading(
        `soak (${SUBSCRIPTIONS} agentUpdated subscriptions over both graphql-sse modes, updateAgent at ${RATE}/s for ${SECONDS} s)`,
      );
      const startedAt = Date.now();
      const { stats, dispose } = subscribeAll(services.url, agents, startedAt);
      try {
        const inspector = await openInspector(services.inspectPort);
        try {
          const api = { pid: services.apiPid, inspector };
          const host = { machine: machineTicks(), apiMs: processCpuMs(api.pid) };
          const run = await drive(
            services.url,
            agents,
            api,
            startedAt,
            () => `${stats.received} events received, ${stats.errors} subscription errors`,
          );
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          printHost(host, api.pid, (Date.now() - startedAt) / 1_000);
          return judge(stats, run);
        } finally {
          inspector.close();
        }
      } finally {
        dispose();
      }
    } finally {
      services.stop();
    }
  } finally {
    await disconnectDatabase();
    await database.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSoak().then(
    (met) => process.exit(met ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

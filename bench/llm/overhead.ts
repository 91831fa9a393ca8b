// The router + metering overhead at CONCURRENCY streams against the same SDK calling the stub
// directly: rounds of one side at a time, paired calls, and paired calls between forced full
// collections; the CPU per call; one stream at a time.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createChatClient, type ChatClient } from '../../src/reports/providers/index.js';
import type { TopicSettings } from '../../src/resolvers/topics/settings.js';
import {
  burst,
  checkTarget,
  formatSummary,
  heading,
  line,
  summarize,
  type TargetCheck,
} from '../stats.js';
import { CONCURRENCY, deployment, drain, route } from './calls.js';

/**
 * `total` calls on CONCURRENCY streams, each alternating a direct and a routed call (stream s
 * starts with the routed one when s + offset is odd). The first wave is left out of the
 * samples: its 64 calls start in the same tick, and the routed ones, a few awaits later
 * (the catalog, the budget), queue behind every direct request of the wave (10–40 ms more,
 * a 1 % tail made by the start, not by routing).
 */
async function alternating(
  direct: ChatClient,
  routed: ChatClient,
  total: number,
  offset: number,
  samples: { baseline: number[]; routed: number[] },
): Promise<void> {
  const scope = { call: { teamId: null, apiKeyId: null } };
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, stream) => {
      for (let i = stream + offset; next < total; i++) {
        const counted = next++ >= CONCURRENCY;
        const side = i % 2 ? 'routed' : 'baseline';
        const ms = side === 'routed' ? await drain(routed, scope) : await drain(direct);
        if (counted) samples[side].push(ms);
      }
    }),
  );
}

/**
 * Each of the CONCURRENCY streams alternates a direct and a routed call: 64 streams in flight
 * at any moment, half of them routed, and whatever stalls the process (a full collection,
 * the host) delays both sides alike. The difference is what routing adds to a call.
 */
async function paired(direct: ChatClient, routed: ChatClient): Promise<TargetCheck[]> {
  const samples = { baseline: [] as number[], routed: [] as number[] };
  await alternating(direct, routed, 12_000, 0, samples);
  return pairedChecks('paired', samples);
}

/** Each side's figures and the p99 and p50 differences against the 2 ms target. */
function pairedChecks(
  label: string,
  samples: { baseline: number[]; routed: number[] },
): TargetCheck[] {
  const base = summarize(samples.baseline);
  const withRouter = summarize(samples.routed);
  line(`${label}: baseline (the SDK calling the stub)`, formatSummary(base));
  line(`${label}: routed`, formatSummary(withRouter));
  return [
    checkTarget(`overhead p99 at 64 streams, ${label}`, withRouter.p99 - base.p99, 2),
    checkTarget(`overhead p50 at 64 streams, ${label}`, withRouter.p50 - base.p50, 2),
  ];
}

/** The major (mark-compact) collections V8 ran while `run` ran. */
async function countingMajorCollections(run: () => Promise<unknown>): Promise<number> {
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (
        (entry as { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        majors++;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await run();
    // The observer hears of a collection a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    return majors;
  } finally {
    observer.disconnect();
  }
}

/**
 * As `paired`, in batches of 1,000 calls with a full collection forced between them (no call
 * in flight), so that V8's mark-compact pauses, which come from the SDK's transport on both
 * sides and stall all 64 calls in flight at once, do not land inside a measured call. The
 * router's own allocation is measured apart (the CPU per call above); the count of major
 * collections that still ran inside the batches is printed beside the figure.
 */
async function pairedBetweenCollections(
  direct: ChatClient,
  routed: ChatClient,
): Promise<TargetCheck[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    line('paired between collections', 'skipped: run with --expose-gc (npm run bench does)');
    return [];
  }
  const samples = { baseline: [] as number[], routed: [] as number[] };
  let inside = 0;
  for (let batch = 0; batch < 12; batch++) {
    gc();
    inside += await countingMajorCollections(() =>
      alternating(direct, routed, 1_000, batch, samples),
    );
  }
  line('major collections inside the batches', String(inside));
  return pairedChecks('paired, collections between batches', samples);
}

/** `baseUrl`: the stub in a process of its own (stub-process.ts). */
export async function overhead(settings: TopicSettings, baseUrl: string): Promise<TargetCheck[]> {
  heading(`llm: router + metering overhead, ${CONCURRENCY} concurrent streams`);
  await route(settings, 'PRIORITY', [await deployment('remote', baseUrl)]);
  const direct = createChatClient({
    provider: 'openai',
    baseUrl,
    apiKey: 'sk',
    model: 'bench-model',
  });
  const routed = settings.llm.router.chat('WRITE');
  const scope = { call: { teamId: null, apiKeyId: null } };
  await burst(500, CONCURRENCY, () => drain(direct));
  await burst(500, CONCURRENCY, () => drain(routed, scope));
  const rounds = { baseline: [] as number[], routed: [] as number[] };
  const cpu = { baseline: 0, routed: 0 };
  const timed = async (which: 'baseline' | 'routed', run: () => Promise<number>) => {
    const measured = await burst(2_000, CONCURRENCY, run);
    rounds[which].push(...measured.samples);
    cpu[which] += measured.cpuSeconds * 1000;
  };
  for (let round = 0; round < 3; round++) {
    await timed('baseline', () => drain(direct));
    await timed('routed', () => drain(routed, scope));
  }
  const base = summarize(rounds.baseline);
  const withRouter = summarize(rounds.routed);
  line('baseline: the SDK calling the stub', formatSummary(base));
  line('routed (rank, reserve-free, meter, metrics)', formatSummary(withRouter));
  // The stub shares this process: at 64 streams on 2 cores every CPU millisecond a call adds
  // is paid by the calls queued behind it, so the CPU per call is the figure to compare.
  const perCall = (total: number) => total / rounds.baseline.length;
  line(
    'CPU per call (this process; the stub runs in another)',
    `baseline ${perCall(cpu.baseline).toFixed(3)} ms, routed ${perCall(cpu.routed).toFixed(3)} ms: +${(perCall(cpu.routed) - perCall(cpu.baseline)).toFixed(3)} ms`,
  );
  const single = { baseline: [] as number[], routed: [] as number[] };
  for (let i = 0; i < 500; i++) {
    single.baseline.push(await drain(direct));
    single.routed.push(await drain(routed, scope));
  }
  const one = { base: summarize(single.baseline), routed: summarize(single.routed) };
  line('one stream at a time: baseline', formatSummary(one.base));
  line('one stream at a time: routed', formatSummary(one.routed));
  return [
    ...(await pairedBetweenCollections(direct, routed)),
    ...(await paired(direct, routed)),
    checkTarget(
      'overhead p99 at 64 streams, rounds (routed - baseline)',
      withRouter.p99 - base.p99,
      2,
    ),
    checkTarget('overhead p50 at 64 streams', withRouter.p50 - base.p50, 2),
    checkTarget('CPU per call added', perCall(cpu.routed - cpu.baseline), 2),
    checkTarget('overhead p99, one stream at a time', one.routed.p99 - one.base.p99, 2),
  ];
}

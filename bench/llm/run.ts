// `npm run bench -- llm` (issue 29), against the local LLM stub (tests/utils/llm-stub.ts,
// a real HTTP server) on a fresh database: (1) router + metering overhead at 64 concurrent
// streams against a same-run baseline of the same SDK calling the stub directly (rounds,
// paired, and paired with full collections between batches; the stub in a process of its
// own, as a provider is); (2) metering rows lost in 10,000 calls; (3) a primary answering 503 for 60 s
// with a request every 250 ms: attempts it gets; (4) LOWEST_LATENCY with deployments at 40
// and 200 ms to first token: the share of 200 calls the fast one gets, and the calls it
// takes to move when the fast one slows to 400 ms.
import { randomUUID } from 'node:crypto';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { createChatClient, type ChatClient } from '../../src/reports/providers/index.js';
import {
  closeTopicSettings,
  createTopicSettings,
  LOCAL_REPORTS,
  type TopicSettings,
} from '../../src/resolvers/topics/settings.js';
import { createLlmMetrics } from '../../src/resolvers/topics/llm-metrics.js';
import { startLlmStub, type LlmStub } from '../../tests/utils/llm-stub.js';
import { openFreshBenchDatabase } from '../database.js';
import { loadAverage } from '../machine.js';
import { spawnBenchScript } from '../tasks/processes.js';
import {
  checkTarget,
  formatSummary,
  heading,
  line,
  summarize,
  type TargetCheck,
} from '../stats.js';

const CONCURRENCY = 64;
const REQUEST = { system: 's', user: 'Write section 1 of 1: Bench', maxTokens: 200 };

async function drain(chat: ChatClient, extra: Record<string, unknown> = {}): Promise<number> {
  const started = performance.now();
  for await (const _ of chat.streamChat({
    ...REQUEST,
    signal: new AbortController().signal,
    ...extra,
  }));
  return performance.now() - started;
}

/** `total` calls, CONCURRENCY at a time; each call's duration. */
async function concurrently(total: number, run: () => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < total) samples.push(await run());
    }),
  );
  return samples;
}

async function deployment(name: string, baseUrl: string, prices = true): Promise<string> {
  const row = await db().llmDeployment.create({
    data: {
      name,
      kind: 'OPENAI_COMPATIBLE',
      baseUrl,
      model: 'bench-model',
      inputUsdPerMTok: prices ? 1 : null,
      outputUsdPerMTok: prices ? 2 : null,
    },
  });
  return row.id;
}

async function route(
  settings: TopicSettings,
  strategy: 'PRIORITY' | 'LOWEST_LATENCY',
  ids: string[],
) {
  await db().llmRoute.deleteMany({ where: { teamId: null, service: 'WRITE' } });
  await db().llmRoute.create({
    data: {
      service: 'WRITE',
      strategy,
      deploymentIds: ids,
      maxAttempts: 3,
      fallbackToLocal: false,
    },
  });
  settings.llm.catalog.forget();
}

/**
 * `total` calls on CONCURRENCY streams, each alternating a direct and a routed call (stream s
 * starts with the routed one when s + offset is odd). The first wave is left out of the
 * samples: its 64 calls start in the same tick, and the routed ones, a few awaits later
 * (the catalog, the budget), queue behind every direct request of the wave (20–40 ms more,
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
  const base = summarize(samples.baseline);
  const withRouter = summarize(samples.routed);
  line('paired: baseline (the SDK calling the stub)', formatSummary(base));
  line('paired: routed', formatSummary(withRouter));
  return [
    checkTarget('overhead p99 at 64 streams, paired', withRouter.p99 - base.p99, 2),
    checkTarget('overhead p50 at 64 streams, paired', withRouter.p50 - base.p50, 2),
  ];
}

/** The major (mark-compact) collections V8 ran while `run` ran. */
async function countingMajorCollections<T>(run: () => Promise<T>): Promise<[T, number]> {
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
    const result = await run();
    await new Promise((resolve) => setImmediate(resolve));
    return [result, majors];
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
    const [, majors] = await countingMajorCollections(() =>
      alternating(direct, routed, 1_000, batch, samples),
    );
    inside += majors;
  }
  const base = summarize(samples.baseline);
  const withRouter = summarize(samples.routed);
  line('paired between collections: baseline', formatSummary(base));
  line('paired between collections: routed', formatSummary(withRouter));
  line('major collections inside the batches', String(inside));
  return [
    checkTarget(
      'overhead p99 at 64 streams, paired, collections between batches',
      withRouter.p99 - base.p99,
      2,
    ),
    checkTarget(
      'overhead p50 at 64 streams, paired, collections between batches',
      withRouter.p50 - base.p50,
      2,
    ),
  ];
}

/** `baseUrl`: the stub in a process of its own (stub-process.ts). */
async function overhead(settings: TopicSettings, baseUrl: string): Promise<TargetCheck[]> {
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
  await concurrently(500, () => drain(direct));
  await concurrently(500, () => drain(routed, scope));
  const rounds = { baseline: [] as number[], routed: [] as number[] };
  const cpu = { baseline: 0, routed: 0 };
  const timed = async (which: 'baseline' | 'routed', run: () => Promise<number>) => {
    const before = process.cpuUsage();
    rounds[which].push(...(await concurrently(2_000, run)));
    const used = process.cpuUsage(before);
    cpu[which] += (used.user + used.system) / 1000;
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

async function nothingLost(settings: TopicSettings): Promise<TargetCheck[]> {
  heading('llm: metering 10,000 calls');
  const marker = randomUUID();
  const routed = settings.llm.router.chat('WRITE');
  const scope = { call: { teamId: null, apiKeyId: null, topicId: marker } };
  const started = performance.now();
  await concurrently(10_000, () => drain(routed, scope));
  const callsMs = performance.now() - started;
  await settings.llm.metering.flush();
  const rows = await db().llmCall.count({ where: { topicId: marker } });
  line(
    '10,000 calls',
    `${(callsMs / 1000).toFixed(1)} s; rows written ${rows}; pending ${settings.llm.metering.pending}`,
  );
  const lost = 10_000 - rows;
  line('TARGET rows lost', `${lost} (target 0): ${lost === 0 ? 'MET' : 'MISSED'}`);
  return [{ label: 'metering rows lost', value: lost, target: 0, met: lost === 0 }];
}

async function deadPrimary(
  settings: TopicSettings,
  primary: LlmStub,
  secondary: LlmStub,
): Promise<TargetCheck[]> {
  heading('llm: primary answering 503 for 60 s, a request every 250 ms');
  const ids = [
    await deployment('dead-primary', primary.openaiBaseUrl),
    await deployment('standby', secondary.openaiBaseUrl),
  ];
  await route(settings, 'PRIORITY', ids);
  primary.reset();
  secondary.reset();
  primary.behave({ fail: { status: 503, message: 'down' } });
  const routed = settings.llm.router.chat('WRITE');
  const failures: string[] = [];
  const until = Date.now() + 60_000;
  for (let i = 0; Date.now() < until; i++) {
    const tick = Date.now();
    await drain(routed, { call: { teamId: null, apiKeyId: null } }).catch((e: Error) =>
      failures.push(e.message),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - tick))));
  }
  const attempts = primary.requests.length;
  primary.reset();
  line('requests answered by the standby', `${secondary.answered()}, failed ${failures.length}`);
  line(
    'TARGET primary attempts in the minute',
    `${attempts} (target ≤ 2): ${attempts <= 2 ? 'MET' : 'MISSED'}`,
  );
  return [{ label: 'primary attempts', value: attempts, target: 2, met: attempts <= 2 }];
}

async function lowestLatency(
  settings: TopicSettings,
  fast: LlmStub,
  slow: LlmStub,
): Promise<TargetCheck[]> {
  heading('llm: LOWEST_LATENCY, 40 ms and 200 ms to first token');
  fast.reset();
  slow.reset();
  fast.behave({ headersDelayMs: 40 });
  slow.behave({ headersDelayMs: 200 });
  await route(settings, 'LOWEST_LATENCY', [
    await deployment('fast', fast.openaiBaseUrl, false),
    await deployment('slow', slow.openaiBaseUrl, false),
  ]);
  const routed = settings.llm.router.chat('WRITE');
  const scope = { call: { teamId: null, apiKeyId: null } };
  for (let i = 0; i < 200; i++) await drain(routed, scope);
  const share = fast.requests.length / 200;
  line('calls to the fast one', `${fast.requests.length} of 200 (${(share * 100).toFixed(1)} %)`);
  fast.behave({ headersDelayMs: 400 });
  const before = slow.requests.length;
  let moved = -1;
  const picks: string[] = [];
  for (let i = 0; i < 60; i++) {
    const slowBefore = slow.requests.length;
    await drain(routed, scope);
    picks.push(slow.requests.length > slowBefore ? 'slow' : 'fast');
    const last = picks.slice(-5);
    if (moved < 0 && last.length === 5 && last.every((p) => p === 'slow')) moved = i - 4;
  }
  line(
    'after the fast one slows to 400 ms',
    `moved at call ${moved + 1}; ${slow.requests.length - before} of 60 to the other`,
  );
  const shareMet = share >= 0.9;
  const movedMet = moved >= 0 && moved + 1 <= 30;
  line(
    'TARGET share to the fast one',
    `${(share * 100).toFixed(1)} % (target ≥ 90 %): ${shareMet ? 'MET' : 'MISSED'}`,
  );
  line('TARGET calls until it moves', `${moved + 1} (target ≤ 30): ${movedMet ? 'MET' : 'MISSED'}`);
  return [
    { label: 'share to the fast deployment', value: share, target: 0.9, met: shareMet },
    { label: 'calls until it moves', value: moved + 1, target: 30, met: movedMet },
  ];
}

export async function benchLlm(): Promise<void> {
  line('load average at start', loadAverage());
  const database = await openFreshBenchDatabase('agent_growth_bench_llm');
  connectDatabase(database.url, { poolSize: 10 });
  const stubs = [await startLlmStub(), await startLlmStub()];
  const remoteStub = spawnBenchScript('bench/llm/stub-process.ts', {});
  const pubsub = createInProcessPubSub('bench-llm:');
  const settings = await createTopicSettings({
    reports: LOCAL_REPORTS,
    pubsub,
    keyPrefix: 'bench-llm:',
    // As main passes it: every attempt observed on the llm_* families.
    llmMetrics: createLlmMetrics(new Registry()),
  });
  try {
    stubs[0]!.behave({ chunkSize: 20 });
    const remote = await remoteStub.waitFor(/^stub \S+/m);
    const checks = [...(await overhead(settings, remote.slice('stub '.length)))];
    await route(settings, 'PRIORITY', [await deployment('primary', stubs[0]!.openaiBaseUrl)]);
    checks.push(
      ...(await nothingLost(settings)),
      ...(await lowestLatency(settings, stubs[0]!, stubs[1]!)),
      ...(await deadPrimary(settings, stubs[0]!, stubs[1]!)),
    );
    line('load average at end', loadAverage());
    line('targets', `${checks.filter((c) => c.met).length} of ${checks.length} met`);
  } finally {
    await closeTopicSettings(settings);
    await pubsub.close();
    for (const stub of stubs) await stub.close();
    await remoteStub.stop();
    await disconnectDatabase();
    await database.stop();
  }
}

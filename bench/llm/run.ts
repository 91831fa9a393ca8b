// `npm run bench -- llm`, against the local LLM stub (tests/utils/llm-stub.ts,
// a real HTTP server) on a fresh database: (1) router + metering overhead at 64 concurrent
// streams against a same-run baseline of the same SDK calling the stub directly (rounds,
// paired, and paired with full collections between batches; the stub in a process of its
// own, as a provider is); (2) metering rows lost in 10,000 calls; (3) a primary answering 503 for 60 s
// with a request every 250 ms: attempts it gets; (4) LOWEST_LATENCY with deployments at 40
// and 200 ms to first token: the share of 200 calls the fast one gets, and the calls it
// takes to move when the fast one slows to 400 ms.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { createLlmGateway, type LlmGateway } from '../../src/llm/gateway.js';
import { createLlmMetrics } from '../../src/llm/metrics.js';
import { startLlmStub, type LlmStub } from '../../tests/utils/llm-stub.js';
import { openFreshBenchDatabase } from '../database.js';
import { loadAverage } from '../machine.js';
import { spawnBenchScript } from '../tasks/processes.js';
import { burst, heading, line, type TargetCheck } from '../stats.js';
import { CONCURRENCY, deployment, drain, route } from './calls.js';
import { overhead } from './overhead.js';

async function nothingLost(settings: LlmGateway): Promise<TargetCheck[]> {
  heading('llm: metering 10,000 calls');
  const marker = randomUUID();
  const routed = settings.router.chat('WRITE');
  const scope = { call: { teamId: null, apiKeyId: null, topicId: marker } };
  const started = performance.now();
  await burst(10_000, CONCURRENCY, () => drain(routed, scope));
  const callsMs = performance.now() - started;
  await settings.metering.flush();
  const rows = await db().llmCall.count({ where: { topicId: marker } });
  line(
    '10,000 calls',
    `${(callsMs / 1000).toFixed(1)} s; rows written ${rows}; pending ${settings.metering.pending}`,
  );
  const lost = 10_000 - rows;
  line('TARGET rows lost', `${lost} (target 0): ${lost === 0 ? 'MET' : 'MISSED'}`);
  return [{ label: 'metering rows lost', value: lost, target: 0, met: lost === 0 }];
}

async function deadPrimary(
  settings: LlmGateway,
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
  const routed = settings.router.chat('WRITE');
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
  settings: LlmGateway,
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
  const routed = settings.router.chat('WRITE');
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
  const registry = new Registry();
  const settings = await createLlmGateway({
    pubsub,
    keyPrefix: 'bench-llm:',
    // As main passes it: every attempt observed on the llm_* families.
    metrics: createLlmMetrics(registry),
  });
  try {
    stubs[0]!.behave({ chunkSize: 20 });
    const remote = await remoteStub.waitFor(/^stub \S+/m);
    const checks = [...(await overhead(settings, remote.slice('stub '.length), registry))];
    await route(settings, 'PRIORITY', [await deployment('primary', stubs[0]!.openaiBaseUrl)]);
    checks.push(
      ...(await nothingLost(settings)),
      ...(await lowestLatency(settings, stubs[0]!, stubs[1]!)),
      ...(await deadPrimary(settings, stubs[0]!, stubs[1]!)),
    );
    line('load average at end', loadAverage());
    line('targets', `${checks.filter((c) => c.met).length} of ${checks.length} met`);
  } finally {
    await settings.close();
    await pubsub.close();
    for (const stub of stubs) await stub.close();
    await remoteStub.stop();
    await disconnectDatabase();
    await database.stop();
  }
}

// `npm run bench -- platform` : `{ viewer }` and `agent(id:)` through
// GraphQL in-process (app.fetch), as one user key, by four apps on one database: rate limits
// off or on (the key's and its team's buckets in Redis, sized so that nothing is refused: the
// figures are the check's cost) times the response cache off or on. Each round runs every
// query on every app, the apps' order turned each round, CONCURRENCY clients at once. Prints
// throughput and latency, the ratios, and the targets: rate limiting costs < 10 % of the
// throughput; a cached `agent(id:)` at ≥ 0.8× `{ viewer }`.
import { randomUUID } from 'node:crypto';
import type { App } from '../src/http/app.js';
import type { RateLimitOptions } from '../src/http/rate-limit/limits.js';
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { createInProcessPubSub } from '../src/platform/pubsub.js';
import { dropChangedResponses } from '../src/http/response-cache/changes.js';
import { openResponseStore } from '../src/platform/response-cache/invalidation.js';
import { createTokenBuckets } from '../src/platform/token-buckets/index.js';
import { createAgent, post } from './cache.js';
import { openFreshBenchDatabase } from './database.js';
import { machine } from './machine.js';
import { benchApp } from './service.js';
import { burst, formatSummary, heading, line, ms, summarize } from './stats.js';
import type { Burst, Summary } from './stats.js';

const ROUNDS = Number(process.env.BENCH_PLATFORM_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_PLATFORM_REQUESTS ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_PLATFORM_CONCURRENCY ?? 8);

const QUERIES = {
  '{ viewer }': '{ viewer { user scopes team { id name } } }',
  'agent(id:)': `query($id: ID!) { agent(id: $id) { id name coveragePercent totalDocuments totalChunks lastCoverageUpdate retrievalConfig taxonomyNodes { id label path } } }`,
} as const;
type QueryName = keyof typeof QUERIES;
const MODES = ['plain', 'limited', 'cached', 'limited+cached'] as const;
type Mode = (typeof MODES)[number];

/** Far above what the bench sends: every request is checked, none refused. */
const HUGE = { perMinute: 100_000_000, burst: 100_000_000 };

function request(app: App, key: string, name: QueryName, agentId: string) {
  return async () => {
    const response = await app.fetch(
      new Request('http://bench.local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: QUERIES[name], variables: { id: agentId } }),
      }),
    );
    const body = (await response.json()) as { errors?: unknown[] };
    if (body.errors || response.status !== 200)
      throw new Error(`${name}: ${response.status} ${JSON.stringify(body.errors)}`);
  };
}

/** A fresh database with an agent, a user key, and the four apps. */
async function world() {
  const database = await openFreshBenchDatabase('agent_growth_bench_platform');
  connectDatabase(database.url, { poolSize: 10 });
  const adminKey = `bench-admin-${randomUUID()}`;
  const prefix = `bench-${randomUUID()}:`;
  const pubsub = createInProcessPubSub('bench-platform:');
  const ttls = { ttlMs: 60_000, ttlPerCoordinate: {} };
  const store = await openResponseStore(process.env.REDIS_URL!, prefix, ttls);
  // As main does: what the services change drops from the store.
  const stopDropping = dropChangedResponses(store.store);
  const cache = { store: store.store, ...ttls };
  const limits: RateLimitOptions = {
    key: HUGE,
    team: HUGE,
    maxOpenSubscriptionsPerKey: 100,
    trustedProxyHops: 0,
    redis: process.env.REDIS_URL,
    keyPrefix: prefix,
  };
  const made = {
    plain: await benchApp(adminKey, pubsub),
    limited: await benchApp(adminKey, pubsub, undefined, limits),
    cached: await benchApp(adminKey, pubsub, cache),
    'limited+cached': await benchApp(adminKey, pubsub, cache, limits),
  } satisfies Record<Mode, unknown>;
  // The data is made through a fifth app, so that the four measured ones start alike.
  const setup = await benchApp(adminKey, pubsub);
  const minted = await post(
    setup.app,
    adminKey,
    `mutation { createApiKey(input: { user: "bench", name: "bench", scopes: [WRITE] }) { key } }`,
  );
  const agentId = await createAgent(setup.app, adminKey);
  await setup.close();
  return {
    apps: Object.fromEntries(MODES.map((mode) => [mode, made[mode].app])) as Record<Mode, App>,
    key: minted.createApiKey.key as string,
    agentId,
    async close() {
      for (const mode of MODES) await made[mode].close();
      stopDropping();
      await store.close();
      await pubsub.close();
      await disconnectDatabase();
      await database.stop();
    },
  };
}

type Samples = Record<QueryName, Record<Mode, Burst>>;

/** Rounds: every query on every app, the apps' order turned by one each round. */
async function measure(w: Awaited<ReturnType<typeof world>>): Promise<Samples> {
  const samples = {} as Samples;
  const names = Object.keys(QUERIES) as QueryName[];
  for (const name of names) {
    samples[name] = Object.fromEntries(
      MODES.map((mode) => [mode, { samples: [] as number[], seconds: 0, cpuSeconds: 0 }]),
    ) as Samples[QueryName];
    for (const mode of MODES)
      await burst(REQUESTS, CONCURRENCY, request(w.apps[mode], w.key, name, w.agentId)); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    for (const name of names)
      for (const mode of order) {
        globalThis.gc?.(); // each burst starts from a collected heap (npm run bench exposes gc)
        const result = await burst(
          REQUESTS,
          CONCURRENCY,
          request(w.apps[mode], w.key, name, w.agentId),
        );
        samples[name][mode].samples.push(...result.samples);
        samples[name][mode].seconds += result.seconds;
        samples[name][mode].cpuSeconds += result.cpuSeconds;
      }
  }
  return samples;
}

interface Figures {
  latency: Summary;
  perSecond: number;
  /** This process's CPU time per request (the app, the clients and Redis's replies). */
  cpuMs: number;
}

const us = (milliseconds: number) => `${(milliseconds * 1000).toFixed(0)} µs`;
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');

function report(samples: Samples): void {
  heading(`platform: throughput and latency, ${CONCURRENCY} clients at once (app.fetch)`);
  const f = {} as Record<QueryName, Record<Mode, Figures>>;
  for (const name of Object.keys(samples) as QueryName[]) {
    f[name] = {} as Record<Mode, Figures>;
    for (const mode of MODES) {
      const s = samples[name][mode];
      f[name][mode] = {
        latency: summarize(s.samples),
        perSecond: s.samples.length / s.seconds,
        cpuMs: (1000 * s.cpuSeconds) / s.samples.length,
      };
      const { perSecond, latency, cpuMs } = f[name][mode];
      line(
        `${name} ${mode}`,
        `${perSecond.toFixed(0)} req/s; CPU ${us(cpuMs)}/req; ${formatSummary(latency)}`,
      );
    }
  }
  heading('platform: targets');
  for (const name of Object.keys(samples) as QueryName[])
    for (const [base, limited] of [
      ['plain', 'limited'],
      ['cached', 'limited+cached'],
    ] as const) {
      const a = f[name][base];
      const b = f[name][limited];
      const cost = 1 - b.perSecond / a.perSecond;
      line(
        `TARGET rate limits' cost, ${name} (${base})`,
        `${(100 * cost).toFixed(1)} % of req/s (${b.perSecond.toFixed(0)} vs ${a.perSecond.toFixed(0)}); CPU +${us(b.cpuMs - a.cpuMs)}/req; p99 ${ms(b.latency.p99)} vs ${ms(a.latency.p99)} (target < 10 %): ${verdict(cost < 0.1)}`,
      );
    }
  for (const [cached, viewerMode] of [
    ['cached', 'plain'],
    ['limited+cached', 'limited'],
  ] as const) {
    const agent = f['agent(id:)'][cached].perSecond;
    const viewer = f['{ viewer }'][viewerMode].perSecond;
    line(
      `TARGET ${cached} agent(id:) vs ${viewerMode} { viewer }`,
      `${agent.toFixed(0)} vs ${viewer.toFixed(0)} req/s: ${(agent / viewer).toFixed(2)}x (target ≥ 0.80): ${verdict(agent / viewer >= 0.8)}`,
    );
  }
}

/** The bucket take alone (a key's and a team's bucket in Redis), as each limited request makes it. */
async function takeAlone(): Promise<void> {
  const buckets = createTokenBuckets({
    redis: process.env.REDIS_URL,
    keyPrefix: `bench-${randomUUID()}:`,
  });
  const requests = [
    { scope: 'key', id: 'bench', rate: HUGE },
    { scope: 'team', id: 'bench', rate: HUGE },
  ];
  try {
    await buckets.take(requests, 1);
    const result = await burst(REQUESTS, CONCURRENCY, async () => {
      const outcome = await buckets.take(requests, 1);
      if (!outcome.allowed || !outcome.shared)
        throw new Error('the take did not pass through Redis');
    });
    heading('platform: the bucket take alone (key and team buckets in Redis)');
    line(
      `${CONCURRENCY} callers at once`,
      `${(result.samples.length / result.seconds).toFixed(0)} takes/s; CPU ${us((1000 * result.cpuSeconds) / result.samples.length)}/take; ${formatSummary(summarize(result.samples))}`,
    );
  } finally {
    await buckets.close();
  }
}

export async function benchPlatform(): Promise<void> {
  heading('platform: rate limits and the response cache, on and off');
  if (!process.env.REDIS_URL)
    return line('skipped', 'REDIS_URL is not set (buckets and cache live in Redis)');
  const w = await world();
  try {
    await machine();
    line('rounds', `${ROUNDS}, rotating; ${REQUESTS} requests per query and app each`);
    const samples = await measure(w);
    report(samples);
    await takeAlone();
  } finally {
    await w.close();
  }
}

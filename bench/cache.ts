// `npm run bench -- cache`: the query response cache (RESPONSE_CACHE). `{ viewer }`,
// `agent(id:)` and `templates(first: 50)` through GraphQL in-process (app.fetch), as one user
// key, by two apps on one database: one without the cache and one with it on Redis. Each
// round runs every query on both apps (the order swapped each round), CONCURRENCY clients at
// once; throughput and latency per query and app, the ratios with/without, and the issue's
// target: a cached `agent(id:)` at ≥ 0.8× `{ viewer }`'s throughput.
import { randomUUID } from 'node:crypto';
import type { App } from '../src/http/app.js';
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { createInProcessPubSub } from '../src/platform/pubsub.js';
import { dropChangedResponses } from '../src/http/response-cache/changes.js';
import { openResponseStore } from '../src/platform/response-cache/invalidation.js';
import { openFreshBenchDatabase } from './database.js';
import { machine } from './machine.js';
import { benchApp } from './service.js';
import { burst, formatSummary, heading, line, ms, summarize, type Summary } from './stats.js';

const ROUNDS = Number(process.env.BENCH_CACHE_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_CACHE_REQUESTS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_CACHE_CONCURRENCY ?? 8);
const PUBLIC_TEMPLATES = 50;

const QUERIES = {
  '{ viewer }': { query: '{ viewer { user scopes team { id name } } }' },
  'agent(id:)': {
    query: `query($id: ID!) { agent(id: $id) { id name coveragePercent totalDocuments totalChunks lastCoverageUpdate retrievalConfig taxonomyNodes { id label path } } }`,
  },
  'templates(first: 50)': {
    query: `{ templates(first: 50) { totalCount edges { node { id name category tags ratingAverage ratingCount usageCount isOfficial } } } }`,
  },
} as const;
type QueryName = keyof typeof QUERIES;
type Mode = 'without' | 'with';

interface Figures {
  latency: Summary;
  perSecond: number;
}

function request(app: App, key: string, name: QueryName, agentId: string) {
  return async () => {
    const response = await app.fetch(
      new Request('http://bench.local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: QUERIES[name].query, variables: { id: agentId } }),
      }),
    );
    const body = (await response.json()) as { errors?: unknown[] };
    if (body.errors) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
  };
}

export async function post(app: App, key: string, query: string, variables = {}): Promise<any> {
  const response = await app.fetch(
    new Request('http://bench.local/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const TAXONOMY = `mutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { nodes { id } } }`;
const AGENT = `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }`;

/** A taxonomy of 20 nodes and an agent over 8 of them, made by the operator. */
export async function createAgent(app: App, adminKey: string): Promise<string> {
  const nodes = Array.from({ length: 20 }, (_, i) => ({
    key: `n${i}`,
    label: `Node ${i}`,
    parentKey: i < 4 ? undefined : `n${i % 4}`,
  }));
  const input = { version: 'bench', name: 'bench', nodes };
  const created = await post(app, adminKey, TAXONOMY, { input });
  const taxonomyNodeIds = created.createTaxonomy.nodes.slice(0, 8).map((n: { id: string }) => n.id);
  const agent = await post(app, adminKey, AGENT, {
    input: { name: 'bench agent', taxonomyVersion: 'bench', taxonomyNodeIds },
  });
  return agent.createAgentFromTaxonomy.id;
}

/** A fresh database with an agent and 50 public templates; a user key; both apps. */
async function world() {
  const database = await openFreshBenchDatabase('agent_growth_bench_cache');
  connectDatabase(database.url, { poolSize: 10 });
  const adminKey = `bench-admin-${randomUUID()}`;
  const pubsub = createInProcessPubSub('bench-cache:');
  const ttls = { ttlMs: 60_000, ttlPerCoordinate: {} };
  const store = await openResponseStore(process.env.REDIS_URL!, `bench-${randomUUID()}:`, ttls);
  // As main does: what the services change drops from the store.
  const stopDropping = dropChangedResponses(store.store);
  const plain = await benchApp(adminKey, pubsub);
  const cached = await benchApp(adminKey, pubsub, { store: store.store, ...ttls });
  const minted = await post(
    plain.app,
    adminKey,
    `mutation { createApiKey(input: { user: "bench", name: "bench", scopes: [WRITE] }) { key } }`,
  );
  for (let i = 0; i < PUBLIC_TEMPLATES; i++)
    await post(
      plain.app,
      adminKey,
      `mutation($name: String!) { createTemplate(input: { name: $name, category: DOCS, content: "Hi {{name}}", tags: ["bench"], isPublic: true }) { id } }`,
      { name: `bench template ${i}` },
    );
  const agentId = await createAgent(plain.app, adminKey);
  return {
    apps: { without: plain.app, with: cached.app } as Record<Mode, App>,
    key: minted.createApiKey.key as string,
    agentId,
    async close() {
      await cached.close();
      await plain.close();
      stopDropping();
      await store.close();
      await pubsub.close();
      await disconnectDatabase();
      await database.stop();
    },
  };
}

type Samples = Record<QueryName, Record<Mode, { samples: number[]; seconds: number }>>;

/** Alternating rounds: every query on both apps, the apps' order swapped each round. */
async function measure(w: Awaited<ReturnType<typeof world>>): Promise<Samples> {
  const samples = {} as Samples;
  const names = Object.keys(QUERIES) as QueryName[];
  for (const name of names) {
    samples[name] = {
      without: { samples: [], seconds: 0 },
      with: { samples: [], seconds: 0 },
    };
    for (const mode of ['without', 'with'] as Mode[])
      await burst(REQUESTS, CONCURRENCY, request(w.apps[mode], w.key, name, w.agentId)); // warm-up (and the first fill)
  }
  for (let round = 0; round < ROUNDS; round++) {
    const modes: Mode[] = round % 2 ? ['with', 'without'] : ['without', 'with'];
    for (const name of names)
      for (const mode of modes) {
        const result = await burst(
          REQUESTS,
          CONCURRENCY,
          request(w.apps[mode], w.key, name, w.agentId),
        );
        samples[name][mode].samples.push(...result.samples);
        samples[name][mode].seconds += result.seconds;
      }
  }
  return samples;
}

const figuresOf = (s: { samples: number[]; seconds: number }): Figures => ({
  latency: summarize(s.samples),
  perSecond: s.samples.length / s.seconds,
});

function report(samples: Samples, hitRatio: string): void {
  heading(`cache: throughput and latency, ${CONCURRENCY} clients at once (app.fetch)`);
  const figures = {} as Record<QueryName, Record<Mode, Figures>>;
  for (const name of Object.keys(samples) as QueryName[]) {
    figures[name] = {
      without: figuresOf(samples[name].without),
      with: figuresOf(samples[name].with),
    };
    for (const mode of ['without', 'with'] as Mode[]) {
      const f = figures[name][mode];
      line(`${name} ${mode} cache`, `${f.perSecond.toFixed(0)} req/s; ${formatSummary(f.latency)}`);
    }
    const { without, with: cached } = figures[name];
    line(
      `${name} with/without`,
      `${(cached.perSecond / without.perSecond).toFixed(2)}x throughput; p99 ${ms(cached.latency.p99)} vs ${ms(without.latency.p99)} (${(cached.latency.p99 / without.latency.p99).toFixed(2)}x)`,
    );
  }
  line('hits among the cached app’s cacheable queries', hitRatio);
  const agent = figures['agent(id:)'].with.perSecond;
  for (const mode of ['with', 'without'] as Mode[]) {
    const viewer = figures['{ viewer }'][mode].perSecond;
    const r = agent / viewer;
    line(
      `TARGET cached agent(id:) vs { viewer } ${mode} cache`,
      `${agent.toFixed(0)} vs ${viewer.toFixed(0)} req/s: ${r.toFixed(2)}x (target ≥ 0.80): ${r >= 0.8 ? 'MET' : 'MISSED'}`,
    );
  }
}

async function hitRatio(app: App): Promise<string> {
  const text = await (await app.fetch(new Request('http://bench.local/metrics'))).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const hits = value('response_cache_hits_total');
  const misses = value('response_cache_misses_total');
  return `${hits} hits, ${misses} misses (${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} %)`;
}

export async function benchCache(): Promise<void> {
  heading('cache: the query response cache (RESPONSE_CACHE) on and off');
  if (!process.env.REDIS_URL)
    return line('skipped', 'REDIS_URL is not set (the cache lives in Redis)');
  const w = await world();
  try {
    await machine();
    line('rounds', `${ROUNDS}, alternating; ${REQUESTS} requests per query and app each`);
    const samples = await measure(w);
    report(samples, await hitRatio(w.apps.with));
  } finally {
    await w.close();
  }
}

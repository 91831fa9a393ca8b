// `npm run bench -- tracing`: what OpenTelemetry costs. Two API processes as
// `npm start` runs them (ROLE=api, through tsx) on one database: one with
// OTEL_EXPORTER_OTLP_ENDPOINT set, exporting to a collector in this process (it counts what
// arrives and answers 200), one without (no SDK loaded). `{ viewer }` and `agent(id:)` over
// HTTP on keep-alive connections, CONCURRENCY clients at once, in alternating rounds (the
// order swapped each round); throughput and latency per query and process, and the ratios.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { openFreshBenchDatabase } from './database.js';
import { loadAverage, machine } from './machine.js';
import { freePort } from '../src/platform/free-port.js';
import { start } from './spawn.js';
import { burst, formatSummary, heading, line, ms, summarize } from './stats.js';

const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_TRACING_REQUESTS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_TRACING_CONCURRENCY ?? 8);

const QUERIES = {
  '{ viewer }': '{ viewer { user scopes } }',
  'agent(id:)': `query($id: ID!) { agent(id: $id) { id name coveragePercent totalDocuments taxonomyNodes { id label path } } }`,
} as const;
type QueryName = keyof typeof QUERIES;
type Mode = 'off' | 'on';

async function post(url: string, key: string, query: string, variables = {}): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** A stand-in collector: counts the export requests and their bytes. */
async function collector() {
  const received = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
    req.on('end', () => {
      received.requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function api(databaseUrl: string, adminKey: string, env: Record<string, string>) {
  const port = await freePort();
  const child = await start(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts'],
    {
      ROLE: 'api',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: adminKey,
      // What is measured is tracing: a user key's default rate limit (120) would refuse the bursts.
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    /GraphiQL:/,
  );
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A user key and an agent over 8 nodes of a 20-node taxonomy, made by the operator. */
async function world(url: string, adminKey: string) {
  const minted = await post(
    url,
    adminKey,
    `mutation { createApiKey(input: { user: "bench", name: "bench", scopes: [WRITE] }) { key } }`,
  );
  const nodes = Array.from({ length: 20 }, (_, i) => ({
    key: `n${i}`,
    label: `Node ${i}`,
    parentKey: i < 4 ? undefined : `n${i % 4}`,
  }));
  const taxonomy = await post(
    url,
    adminKey,
    `mutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { nodes { id } } }`,
    { input: { version: 'bench', name: 'bench', nodes } },
  );
  const taxonomyNodeIds = taxonomy.createTaxonomy.nodes.slice(0, 8).map((n: any) => n.id);
  const agent = await post(
    url,
    adminKey,
    `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }`,
    { input: { name: 'bench agent', taxonomyVersion: 'bench', taxonomyNodeIds } },
  );
  return { key: minted.createApiKey.key as string, agentId: agent.createAgentFromTaxonomy.id };
}

type Samples = Record<QueryName, Record<Mode, { samples: number[]; seconds: number }>>;

async function measure(urls: Record<Mode, string>, key: string, agentId: string) {
  const samples = {} as Samples;
  const names = Object.keys(QUERIES) as QueryName[];
  const run = (mode: Mode, name: QueryName) => () =>
    post(urls[mode], key, QUERIES[name], { id: agentId });
  for (const name of names) {
    samples[name] = { off: { samples: [], seconds: 0 }, on: { samples: [], seconds: 0 } };
    for (const mode of ['off', 'on'] as Mode[]) await burst(REQUESTS, CONCURRENCY, run(mode, name)); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    const modes: Mode[] = round % 2 ? ['on', 'off'] : ['off', 'on'];
    for (const name of names)
      for (const mode of modes) {
        const result = await burst(REQUESTS, CONCURRENCY, run(mode, name));
        samples[name][mode].samples.push(...result.samples);
        samples[name][mode].seconds += result.seconds;
      }
  }
  return samples;
}

function report(samples: Samples): void {
  heading(`tracing: throughput and latency, ${CONCURRENCY} clients at once (HTTP, keep-alive)`);
  for (const name of Object.keys(samples) as QueryName[]) {
    const figures = Object.fromEntries(
      (['off', 'on'] as Mode[]).map((mode) => {
        const s = samples[name][mode];
        return [mode, { latency: summarize(s.samples), perSecond: s.samples.length / s.seconds }];
      }),
    ) as Record<Mode, { latency: ReturnType<typeof summarize>; perSecond: number }>;
    for (const mode of ['off', 'on'] as Mode[])
      line(
        `${name} tracing ${mode}`,
        `${figures[mode].perSecond.toFixed(0)} req/s; ${formatSummary(figures[mode].latency)}`,
      );
    const { on, off } = figures;
    line(
      `${name} on/off`,
      `${(on.perSecond / off.perSecond).toFixed(2)}x throughput; p99 ${ms(on.latency.p99)} vs ${ms(off.latency.p99)} (${(on.latency.p99 / off.latency.p99).toFixed(2)}x)`,
    );
  }
}

export async function benchTracing(): Promise<void> {
  heading('tracing: OTEL_EXPORTER_OTLP_ENDPOINT set and unset');
  const database = await openFreshBenchDatabase('agent_growth_bench_tracing');
  connectDatabase(database.url, { poolSize: 2 });
  const otel = await collector();
  const adminKey = `bench-admin-${randomUUID()}`;
  const children: ChildProcess[] = [];
  try {
    await machine();
    const off = await api(database.url, adminKey, {});
    children.push(off.child);
    const on = await api(database.url, adminKey, { OTEL_EXPORTER_OTLP_ENDPOINT: otel.url });
    children.push(on.child);
    const { key, agentId } = await world(off.url, adminKey);
    line('rounds', `${ROUNDS}, alternating; ${REQUESTS} requests per query and process each`);
    report(await measure({ off: off.url, on: on.url }, key, agentId));
    line(
      'exported to the collector',
      `${otel.received.requests} requests, ${(otel.received.bytes / 2 ** 20).toFixed(1)} MiB`,
    );
    line('load average', loadAverage());
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await otel.close();
    await disconnectDatabase();
    await database.stop();
  }
}

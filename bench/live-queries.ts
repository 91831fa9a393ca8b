// The live-query half of `npm run bench -- incremental`: CLIENTS (1,000) clients with a live
// `agents(first: 20)` query, one visibility (the admin key), across 2 API processes (src/main.ts,
// ROLE=api, on one Redis) over graphql-sse, in their own process (bench/live-client.ts); then
// one `updateAgent` (a new name), ROUNDS times, on each process in turn: from the mutation's
// request until every client had the new result, and how many times the query ran for it on
// the two processes together (graphql_live_query_executions_total from their /metrics: one per
// distinct query and visibility on each process that has such clients, not one per client).
// Baseline in the same run: 1 client.
import { connectDatabase, db, disconnectDatabase } from '../src/platform/db.js';
import { loadDemoData } from '../src/demo/load.js';
import { toGlobalId } from '../src/schema/ids.js';
import { openFreshBenchDatabase } from './database.js';
import { machine } from './machine.js';
import { apiProcess } from './presence.js';
import { formatSummary, heading, line, summarize } from './stats.js';
import { spawnBenchScript, type BenchChild } from './tasks/processes.js';
import { check, type Target } from './workflows/targets.js';

const CLIENTS = Number(process.env.BENCH_LIVE_CLIENTS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_LIVE_ROUNDS ?? 10);
/**
 * Changes made first and left out of the figures, one through each API process: each
 * process's first mutation and first re-execution compile their code (in one run the two
 * took 105 and 137 ms to every client, the next eighteen 40-67 ms). Printed apart.
 */
const WARM_UP_ROUNDS = 2;
const ADMIN_KEY = 'bench-admin-key-0123456789';
const QUERY = 'query Dashboard @live { agents(first: 20) { edges { node { id name } } } }';
/** After every client had the new result: a later run of the query (there should be none) is counted too. */
const SETTLE_MS = 500;

/** Live query executions so far on all `urls` (their /metrics). */
async function executions(urls: string[]): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = /^graphql_live_query_executions_total (\d+)/m.exec(text);
    total += Number(value?.[1] ?? 0);
  }
  return total;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rename(url: string, id: string, name: string): Promise<void> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      query:
        'mutation($id: ID!, $name: String!) { updateAgent(id: $id, input: { name: $name }) { id } }',
      variables: { id, name },
    }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors) throw new Error(`updateAgent: ${JSON.stringify(body.errors)}`);
}

interface Rounds {
  /** Per warm-up round (not in the figures): until every client had the new result. */
  warmUp: number[];
  /** Per round: until every client had the new result. */
  all: number[];
  each: number[];
  /** Per round: executions of the live query on both processes. */
  executions: number[];
}

async function rounds(urls: string[], clients: number, agentId: string): Promise<Rounds> {
  const env = { URLS: urls.join(','), KEY: ADMIN_KEY, QUERY, CLIENTS: String(clients) };
  // Markers of this run's own: a name left by an earlier run is not a new result.
  const prefix = `live-bench-${clients}`;
  const client = spawnBenchScript('bench/live-client.ts', {
    ...env,
    ROUNDS: String(WARM_UP_ROUNDS + ROUNDS),
    PREFIX: prefix,
  });
  client.child.setMaxListeners(0);
  const result: Rounds = { warmUp: [], all: [], each: [], executions: [] };
  try {
    await client.waitFor(/^subscribed$/m);
    for (let round = 1; round <= WARM_UP_ROUNDS + ROUNDS; round++) {
      const marker = `${prefix}-${round}`;
      const before = await executions(urls);
      const from = Date.now();
      await rename(urls[round % urls.length]!, agentId, marker);
      const pattern = new RegExp(`^\\{"marker":"${marker}",.*\\}$`, 'm');
      const { times } = JSON.parse(await client.waitFor(pattern)) as { times: number[] };
      const each = times.map((at) => at - from);
      if (round <= WARM_UP_ROUNDS) {
        result.warmUp.push(Math.max(...each));
        await sleep(SETTLE_MS);
        continue;
      }
      result.each.push(...each);
      result.all.push(Math.max(...each));
      await sleep(SETTLE_MS);
      result.executions.push((await executions(urls)) - before);
    }
  } finally {
    await client.stop();
  }
  return result;
}

function report(label: string, result: Rounds): number {
  const all = summarize(result.all);
  line(
    `${label}: warm-up, first change through each process (not counted)`,
    result.warmUp.map((ms) => `${ms} ms`).join(', '),
  );
  line(`${label}: new result, each client`, formatSummary(summarize(result.each)));
  line(`${label}: new result, until all had it`, formatSummary(all));
  line(
    `${label}: executions per change (both processes)`,
    `p50 ${summarize(result.executions).p50}, max ${Math.max(...result.executions)}`,
  );
  return all.p99;
}

export async function benchLiveQueries(): Promise<Target[]> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    line(
      'live queries',
      'skipped: REDIS_URL is not set (invalidations cross processes through Redis)',
    );
    return [];
  }
  const database = await openFreshBenchDatabase('agent_growth_bench_live');
  connectDatabase(database.url, { poolSize: 2 });
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    PUBSUB_PREFIX: `bench:live:${Date.now()}:`,
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_OPEN_SUBSCRIPTIONS_PER_KEY: '0',
  };
  const children: BenchChild[] = [];
  try {
    await loadDemoData();
    const [agent] = await db().$queryRaw<[{ id: string }]>`
      SELECT id::text FROM agents ORDER BY "createdAt" LIMIT 1`;
    const agentId = toGlobalId('Agent', agent.id);
    const apis = await Promise.all([apiProcess(env), apiProcess(env)]);
    children.push(...apis.map((api) => api.child));
    const urls = apis.map((api) => api.url);
    await machine();
    heading(
      `incremental: a live agents(first: 20) on 2 API processes (graphql-sse), one visibility`,
    );
    report('baseline, 1 client', await rounds(urls, 1, agentId));
    const p99 = report(`${CLIENTS} clients`, await rounds(urls, CLIENTS, agentId));
    return [check(`live query: new result at all ${CLIENTS} clients p99`, p99, 100)];
  } finally {
    for (const child of children.reverse()) await child.stop();
    await disconnectDatabase();
    await database.stop();
  }
}

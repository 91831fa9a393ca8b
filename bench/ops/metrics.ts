// `npm run bench -- metrics`: what the metrics cost. Per request: the HTTP metrics plugin's
// two hooks (src/http/http-metrics.ts), beside a `{ viewer { user } }` request through
// app.fetch in the same run (which runs them too). Per scrape: GET /metrics (every family,
// the queue's statement over BENCH_METRICS_TASKS tasks) beside GET /health.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { httpMetricsPlugin } from '../../src/http/http-metrics.js';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { openFreshBenchDatabase } from '../database.js';
import { benchApp } from '../service.js';
import { formatSummary, heading, line, ratio, summarize, timeRuns } from '../stats.js';

const RUNS = Number(process.env.BENCH_METRICS_RUNS ?? 2_000);
const TASKS = Number(process.env.BENCH_METRICS_TASKS ?? 20_000);
const HOOK_RUNS = 200_000;

/** Finished tasks and a few hundred waiting ones of each priority: what the scrape reads. */
async function prefill(count: number): Promise<void> {
  await db().$executeRaw`
    INSERT INTO tasks (type, status, priority, payload, "lastSequence", "currentStep", "teamId", "completedAt")
    SELECT 'noop', CASE WHEN i % 20 = 0 THEN 'PENDING' ELSE 'COMPLETED' END::"TaskStatus",
           (ARRAY['HIGH', 'MEDIUM', 'LOW'])[1 + i % 3]::"TaskPriority", '{}'::jsonb, 1, 'queued',
           (SELECT id FROM teams WHERE slug = 'default'), CASE WHEN i % 20 = 0 THEN NULL ELSE now() END
    FROM generate_series(1, ${count}) AS i`;
  await db().$executeRaw`ANALYZE tasks`;
}

/** Milliseconds per request of the plugin's onRequest and onResponse, called directly. */
function hookMs(): number {
  const plugin = httpMetricsPlugin(new Registry());
  const request = new Request('http://bench.local/graphql', { method: 'POST' });
  const url = new URL(request.url);
  const response = new Response('{"data":{"viewer":{"user":"bench"}}}', {
    headers: { 'content-type': 'application/json', 'content-length': '36' },
  });
  // Both hooks are synchronous here (they return nothing to wait for).
  const once = () => {
    void plugin.onRequest!({ request, url } as never);
    void plugin.onResponse!({ request, response } as never);
  };
  for (let i = 0; i < 10_000; i++) once();
  const started = performance.now();
  for (let i = 0; i < HOOK_RUNS; i++) once();
  return (performance.now() - started) / HOOK_RUNS;
}

export async function benchMetrics(): Promise<void> {
  const database = await openFreshBenchDatabase('agent_growth_bench_metrics');
  connectDatabase(database.url, { poolSize: 10 });
  const adminApiKey = `bench-admin-${randomUUID()}`;
  const pubsub = createInProcessPubSub('bench:');
  const { app, close } = await benchApp(adminApiKey, pubsub);
  const fetchText = async (request: Request) => {
    const response = await app.fetch(request);
    if (response.status !== 200) throw new Error(`${request.url}: ${response.status}`);
    return response.text();
  };
  const viewer = () =>
    fetchText(
      new Request('http://bench.local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminApiKey}` },
        body: JSON.stringify({ query: '{ viewer { user } }' }),
      }),
    );
  const get = (path: string) => fetchText(new Request(`http://bench.local${path}`));
  try {
    await prefill(TASKS);
    heading(`metrics: counting requests, and scraping (${TASKS} tasks in the queue's table)`);
    const baseline = summarize(await timeRuns(RUNS, viewer, 100));
    line('baseline { viewer { user } } (app.fetch)', formatSummary(baseline));
    const hooks = hookMs();
    line(
      'HTTP metrics hooks, per request',
      `${(hooks * 1_000).toFixed(2)} µs = ${((hooks / baseline.p50) * 100).toFixed(2)} % of the baseline's p50`,
    );
    const health = summarize(await timeRuns(RUNS, () => get('/health'), 100));
    line('GET /health', formatSummary(health));
    const scrape = summarize(await timeRuns(200, () => get('/metrics'), 10));
    const bytes = Buffer.byteLength(await get('/metrics'));
    line(
      `GET /metrics (${bytes} bytes)`,
      `${formatSummary(scrape)}  p50 ${ratio(scrape.p50, health.p50)}`,
    );
  } finally {
    await close();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

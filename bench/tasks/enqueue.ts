// `npm run bench -- enqueue`: refreshCoverage(background: true) through GraphQL over a
// real HTTP server, 50 concurrent clients. Baseline (same run, same server and
// concurrency): `{ viewer { user } }`, an authenticated query that touches no table.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectDatabase, disconnectDatabase } from '../../src/db.js';
import { createInProcessPubSub } from '../../src/pubsub.js';
import { createApp } from '../../src/server.js';
import { formatSummary, heading, line, ms, summarize } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { benchAgent } from './fixture.js';

const CONCURRENCY = 50;
const REQUESTS = Number(process.env.BENCH_ENQUEUE_REQUESTS ?? 3_000);
const ADMIN_KEY = 'bench-admin-key-0123456789';

async function load(url: string, body: string): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        const started = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body });
        const json = (await response.json()) as { errors?: unknown };
        if (json.errors) throw new Error(JSON.stringify(json.errors));
        samples.push(performance.now() - started);
      }
    }),
  );
  return samples;
}

export async function benchEnqueue(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  const pubsub = createInProcessPubSub('bench:');
  const app = createApp({ adminApiKey: ADMIN_KEY, pubsub });
  const server = createServer(app.yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  try {
    const { agentId } = await benchAgent();
    heading(`enqueue (refreshCoverage background, ${CONCURRENCY} concurrent clients, ${REQUESTS} requests, API in this process, no worker)`);
    const viewer = JSON.stringify({ query: '{ viewer { user } }' });
    const enqueue = JSON.stringify({
      query: 'mutation($input: RefreshCoverageInput!) { refreshCoverage(input: $input) { task { id status } } }',
      variables: { input: { agentId, priority: 'MEDIUM' } },
    });
    await load(url, viewer); // warm-up
    const baseline = summarize(await load(url, viewer));
    line('baseline { viewer }', formatSummary(baseline));
    const started = performance.now();
    const result = summarize(await load(url, enqueue));
    const seconds = (performance.now() - started) / 1000;
    line('refreshCoverage(background: true)', formatSummary(result));
    line('throughput', `${(REQUESTS / seconds).toFixed(0)} enqueues/s; p99 = ${(result.p99 / baseline.p99).toFixed(2)}x baseline p99`);
    line('TARGET p99 < 15 ms (seed floor 500 ms)', `${ms(result.p99)}: ${result.p99 < 15 ? 'MET' : 'MISSED'}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    app.close();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

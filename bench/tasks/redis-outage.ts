// `npm run bench -- redis-outage`: what losing Redis costs a request. updateAgent (publishes
// agentUpdated) and refreshCoverage (enqueue: publishes the task's first event and wakes the
// workers) through GraphQL over HTTP, one after another, with a private Redis up (the
// baseline), then again after it was SIGKILLed, in the same run. Target: p99 within 1.5x.
// Redis carries signals only; readers fall back to the event log (tests/feeds).
import { spawn, type ChildProcess } from 'node:child_process';
import { connectDatabase, disconnectDatabase } from '../../src/platform/db.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { listenBenchApp } from '../http-server.js';
import { benchApp } from '../service.js';
import { formatSummary, heading, line, summarize, timeRuns } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { benchAgent } from './fixture.js';
import { freePort } from '../../src/platform/free-port.js';

const REQUESTS = Number(process.env.BENCH_OUTAGE_REQUESTS ?? 500);
const ADMIN_KEY = 'bench-admin-key-0123456789';
const TARGET_RATIO = 1.5;

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on(
      'data',
      (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve(),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

/** The two requests timed: one publishes a signal, the other enqueues (publish and wake-up). */
function timedOperations(baseUrl: string, agentId: string) {
  const post = (query: string, variables: Record<string, unknown>) => async () => {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  };
  return {
    updateAgent: (i: number) =>
      post(
        'mutation($id: ID!, $d: String) { updateAgent(id: $id, input: { scopeDescription: $d }) { id } }',
        { id: agentId, d: `run ${i}` },
      )(),
    'refreshCoverage (enqueue)': () =>
      post('mutation($id: ID!) { refreshCoverage(input: { agentId: $id }) { task { id } } }', {
        id: agentId,
      })(),
  };
}

export async function benchRedisOutage(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  const port = await freePort();
  const redis = await startRedis(port);
  const pubsub = createRedisPubSub(`redis://127.0.0.1:${port}`, 'bench-outage:');
  const { app, close: closeApp } = await benchApp(ADMIN_KEY, pubsub);
  const server = await listenBenchApp(app);
  try {
    const { agentId } = await benchAgent();
    const operations = timedOperations(server.baseUrl, agentId);
    heading(
      `redis outage (${REQUESTS} sequential requests each over HTTP, Redis up, then SIGKILLed)`,
    );
    const up: Record<string, number[]> = {};
    for (const [name, run] of Object.entries(operations))
      up[name] = await timeRuns(REQUESTS, run, 50);
    redis.kill('SIGKILL');
    await new Promise((resolve) => redis.once('exit', resolve));
    const down: Record<string, number[]> = {};
    for (const [name, run] of Object.entries(operations))
      down[name] = await timeRuns(REQUESTS, run, 5);
    for (const name of Object.keys(operations)) {
      const before = summarize(up[name]!);
      const after = summarize(down[name]!);
      line(`${name}: Redis up (baseline)`, formatSummary(before));
      line(`${name}: Redis down`, formatSummary(after));
      const ratio = after.p99 / before.p99;
      line(
        `${name}: p99 down / up`,
        `${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x): ${ratio <= TARGET_RATIO ? 'MET' : 'MISSED'}`,
      );
    }
  } finally {
    redis.kill('SIGKILL');
    await server.close();
    await closeApp();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

// `npm run bench -- fanout`: 1,000 / 5,000 / 10,000 concurrent taskProgress subscribers
// to one task on one API process (this one); a worker process writes BENCH_FANOUT_TICKS
// (100) progress events, 3 a second, and logs when it publishes each (after its commit); subscribers (another process) log
// when each event arrives: publish→receive. Also printed: from the event's `at` (stamped
// when the worker's statement starts, so its commit is included). This process measures
// its memory per subscription. Baseline (same run): 1 subscriber.
import { connectDatabase, db, disconnectDatabase } from '../../src/db.js';
import { createPubSub } from '../../src/pubsub.js';
import { toGlobalId } from '../../src/resolvers/ids.js';
import { createApp } from '../../src/server.js';
import { insertTask } from '../../src/workers/sql/enqueue.js';
import { listenBenchApp } from '../http-server.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { spawnBenchScript } from './processes.js';

const ADMIN_KEY = 'bench-admin-key-0123456789';
// light: bench/tasks/stream-client.ts; graphql-sse: graphql-sse's own client.
const CLIENT = process.env.BENCH_FANOUT_CLIENT ?? 'light';
const LEVELS = (process.env.BENCH_FANOUT_LEVELS ?? '1,1000,5000,10000').split(',').map(Number);
const WARM_UP = Number(process.env.BENCH_FANOUT_WARM_UP ?? 1000);
// Events per measured round: every event goes to all subscribers at once, so one late event
// is 1/TICKS of the samples; with 20, one alone set the p99.
const TICKS = Number(process.env.BENCH_FANOUT_TICKS ?? 100);

function settledMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

export async function benchFanout(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  const redisUrl = process.env.REDIS_URL;
  const prefix = `bench:fanout:${Date.now()}:`;
  const pubsub = createPubSub(redisUrl, prefix);
  const app = createApp({ adminApiKey: ADMIN_KEY, pubsub });
  const server = await listenBenchApp(app);
  const url = `${server.baseUrl}/graphql/stream`;
  heading('fanout (taskProgress subscribers to one task, one API process)');
  line('subscriber client', `${CLIENT}, ${process.env.BENCH_FANOUT_PER_CLIENT ?? '100'} subscriptions per single-connection stream, in another process`);
  line('warm-up (not reported)', `one round with ${WARM_UP} subscribers`);
  line('published', "when the worker process hands the event's notification to Redis, after its commit");
  line('received', 'when the chunk completing a message arrives in the subscriber process (parsed after the run)');
  line('pub/sub', redisUrl ? `Redis ${redisUrl}` : 'none across processes: the hub polls every 1 s');
  line('gc between measurements', (globalThis as { gc?: unknown }).gc ? 'yes (--expose-gc)' : 'no (run with NODE_OPTIONS=--expose-gc for exact memory)');
  const owner = await db().user.upsert({ where: { name: 'admin' }, create: { name: 'admin' }, update: {} });
  let baselineP99 = Number.NaN;
  // One worker for all levels, warmed up by a first task: what is measured is the fan-out,
  // not a worker process starting.
  const worker = spawnBenchScript('bench/tasks/worker-process.ts', { DATABASE_URL: database.url, REDIS_URL: redisUrl ?? '', PUBSUB_PREFIX: prefix, LOG_PUBLISHED: '1' });
  /** When the worker published each event of a task (after its commit), by sequence. */
  const publishedAt = (taskId: string) =>
    new Map([...worker.output().matchAll(new RegExp(`^published ${taskId} (\\d+) (\\d+)$`, 'gm'))].map((m) => [Number(m[1]), Number(m[2])]));
  const release = async (taskId: string) => {
    await db().task.update({ where: { id: taskId }, data: { runAt: new Date() } });
    await pubsub.publish('taskReady', 'queue', { type: 'ticker' });
  };
  const later = new Date(Date.now() + 3_600_000);
  try {
    await worker.waitFor(/ready \S+/);
    const warmUp = await insertTask(db(), { type: 'ticker', priority: 'HIGH', payload: { ticks: 5, intervalMs: 20 }, maxAttempts: 1, timeoutSeconds: 60, ownerId: owner.id });
    await pubsub.publish('taskReady', 'queue', { type: 'ticker' });
    while ((await db().task.findUniqueOrThrow({ where: { id: warmUp.task.id } })).status !== 'COMPLETED') await new Promise((resolve) => setTimeout(resolve, 50));
    /**
     * One task with `subscriptions` subscribers: latencies, or (measureMemory) the heap per
     * subscription instead. Memory needs a forced full collection once all have subscribed,
     * and that collection right before the events made the first event's delivery several
     * times slower (V8 moves the objects and may drop the optimised code of functions idle
     * through it), so the two are measured in separate rounds.
     */
    const round = async (subscriptions: number, measureMemory: boolean, ticks = measureMemory ? 5 : TICKS) => {
      // Held back (runAt in an hour) until every subscriber has its first event.
      const { task } = await insertTask(db(), { type: 'ticker', priority: 'HIGH', payload: { ticks, intervalMs: 300 }, maxAttempts: 1, timeoutSeconds: 600, ownerId: owner.id, runAt: later });
      const before = measureMemory ? settledMemory() : undefined;
      const clients = spawnBenchScript('bench/tasks/subscribers.ts', {
        URL: url,
        KEY: ADMIN_KEY,
        TASK_ID: toGlobalId('Task', task.id),
        SUBSCRIPTIONS: String(subscriptions),
        PER_CLIENT: process.env.BENCH_FANOUT_PER_CLIENT ?? '100',
        CLIENT: CLIENT,
      });
      try {
        await clients.waitFor(/subscribed/);
        const after = measureMemory ? settledMemory() : undefined;
        await release(task.id);
        const { latencies, arrivals } = JSON.parse(await clients.waitFor(/^\{"latencies".*\}\n/m)) as { latencies: number[]; arrivals: Record<string, number[]> };
        const published = publishedAt(task.id);
        if (process.env.BENCH_DEBUG) {
          // Per event: which ones were slow, and for all subscribers or only the last ones.
          for (const [sequence, times] of Object.entries(arrivals)) {
            const each = times.map((at) => at - published.get(Number(sequence))!).sort((a, b) => a - b);
            console.error(`${subscriptions} subscribers, sequence ${sequence}: publish->receive min ${each[0]} p50 ${each[each.length >> 1]} max ${each.at(-1)} ms`);
          }
        }
        const fromPublish = Object.entries(arrivals).flatMap(([sequence, times]) => times.map((at) => at - published.get(Number(sequence))!));
        if (fromPublish.some(Number.isNaN)) throw new Error('an event without its publish time');
        // Events whose last subscriber got it 20 ms or more after its publish.
        const lateEvents = Object.entries(arrivals).filter(([sequence, times]) => Math.max(...times) - published.get(Number(sequence))! >= 20).length;
        return { fromPublish, fromAt: latencies, events: Object.keys(arrivals).length, lateEvents, heapPerSubscription: after && before ? (after.heapUsed - before.heapUsed) / subscriptions / 1024 : Number.NaN };
      } finally {
        await clients.stop();
      }
    };
    // A first, unreported round with WARM_UP subscribers warms the API's delivery path: a
    // long-running server has its fan-out code optimised by V8; a fresh one would run the
    // first event's thousands of deliveries in the interpreter.
    await round(WARM_UP, false, 20);
    for (const subscriptions of LEVELS) {
      const { fromPublish, fromAt, events, lateEvents } = await round(subscriptions, false);
      const summary = summarize(fromPublish);
      if (subscriptions === 1) baselineP99 = summary.p99;
      line(`${subscriptions} subscribers: publish->receive`, `${formatSummary(summary)}${subscriptions > 1 ? `; p99 ${(summary.p99 / baselineP99).toFixed(1)}x the 1-subscriber baseline` : ''}`);
      line(`${subscriptions} subscribers: event at->receive`, `${formatSummary(summarize(fromAt))} (from the worker's statement start: its commit included)`);
      line(`${subscriptions} subscribers: late events`, `${lateEvents} of ${events} reached their last subscriber 20 ms or more after the publish`);
      if (subscriptions === 1) continue;
      const { heapPerSubscription } = await round(subscriptions, true);
      line(`${subscriptions} subscribers: memory per subscription`, `heap ${heapPerSubscription.toFixed(1)} KB (a separate round, after a full collection)`);
      line(`TARGET ${subscriptions}: p99 < 20 ms, <= 40 KB/subscription`, `${summary.p99 < 20 ? 'MET' : 'MISSED'} / ${heapPerSubscription <= 40 ? 'MET' : 'MISSED'}`);
    }
  } finally {
    // Never leave a worker behind: it would take the next run's tasks.
    await worker.stop();
    await server.close();
    app.close();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

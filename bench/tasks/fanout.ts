// `npm run bench -- fanout`: 1,000 and 10,000 concurrent taskProgress subscribers to one
// task on one API process (this one), over each transport in turn (graphql-sse, graphql-ws,
// Apollo's multipart); a worker process writes BENCH_FANOUT_TICKS (100) progress events, 3
// a second, and logs when it publishes each (after its commit); subscribers (another
// process) log when each event arrives: publish→receive. Also printed: from the event's `at`
// (stamped when the worker's statement starts, so its commit is included). This process
// measures its memory per subscription. Baselines (same run): 1 subscriber, graphql-sse, and
// for multipart a bare server's floor (multipart-floor.ts).
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createPubSub } from '../../src/platform/pubsub.js';
import { benchApp } from '../service.js';
import { listenBenchApp } from '../http-server.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { ADMIN_KEY, round, TICKS, warmUpWorker, type Fanout } from './fanout-round.js';
import { spawnWorkerScript } from './processes.js';
import { multipartFloor } from './multipart-floor.js';

/** The transports measured, and the subscriber client of each (subscribers.ts). */
const CLIENTS: Record<string, string> = {
  sse: process.env.BENCH_FANOUT_CLIENT ?? 'light',
  ws: 'ws',
  multipart: 'multipart',
};
const TRANSPORTS = (process.env.BENCH_FANOUT_TRANSPORTS ?? 'sse,ws,multipart').split(',');
const LEVELS = (process.env.BENCH_FANOUT_LEVELS ?? '1,1000,10000').split(',').map(Number);
const MAX_KB_PER_SUBSCRIPTION = 16;
const WARM_UP = Number(process.env.BENCH_FANOUT_WARM_UP ?? 1000);
function printSetup(redisUrl: string | undefined): void {
  heading('fanout (taskProgress subscribers to one task, one API process)');
  line(
    'subscriber clients',
    `in another process; graphql-sse (${CLIENTS.sse}) and graphql-ws: ${process.env.BENCH_FANOUT_PER_CLIENT ?? '100'} subscriptions per connection; multipart: one per response`,
  );
  line('warm-up (not reported)', `one round with ${WARM_UP} subscribers`);
  line(
    'published',
    "when the worker process hands the event's notification to Redis, after its commit",
  );
  line(
    'received',
    'when the chunk completing a message arrives in the subscriber process (parsed after the run)',
  );
  line(
    'pub/sub',
    redisUrl ? `Redis ${redisUrl}` : 'none across processes: the hub polls every 1 s',
  );
  line(
    'gc between measurements',
    (globalThis as { gc?: unknown }).gc
      ? 'yes (--expose-gc)'
      : 'no (run with NODE_OPTIONS=--expose-gc for exact memory)',
  );
}

/** A transport's figures at one level. */
interface LevelResult {
  p50: number;
  p99: number;
  heapKb: number;
}

/** A latency round with `subscriptions` subscribers; prints it and returns its publish→receive figures. */
async function measureLatency(
  fanout: Fanout,
  subscriptions: number,
  baselineP99: number,
): Promise<{ p50: number; p99: number }> {
  const { fromPublish, fromAt, events, lateEvents } = await round(fanout, subscriptions, false);
  const summary = summarize(fromPublish);
  line(
    `${subscriptions} subscribers: publish->receive`,
    `${formatSummary(summary)}${subscriptions > 1 ? `; p99 ${(summary.p99 / baselineP99).toFixed(1)}x the 1-subscriber baseline` : ''}`,
  );
  line(
    `${subscriptions} subscribers: event at->receive`,
    `${formatSummary(summarize(fromAt))} (from the worker's statement start: its commit included)`,
  );
  line(
    `${subscriptions} subscribers: late events`,
    `${lateEvents} of ${events} reached their last subscriber 20 ms or more after the publish`,
  );
  return { p50: summary.p50, p99: summary.p99 };
}

/** A memory round with `subscriptions` subscribers; prints it and returns the heap per subscription in KB. */
async function measureMemory(fanout: Fanout, subscriptions: number): Promise<number> {
  const { heapPerSubscription } = await round(fanout, subscriptions, true);
  line(
    `${subscriptions} subscribers: memory per subscription`,
    `heap ${heapPerSubscription.toFixed(1)} KB (a separate round, after a full collection)`,
  );
  return heapPerSubscription;
}

/** Every level in LEVELS for one transport: latency, then (above 1 subscriber) memory. */
async function measureLevels(fanout: Fanout): Promise<Map<number, LevelResult>> {
  // A first, unreported round with WARM_UP subscribers warms the API's delivery path: a
  // long-running server has its fan-out code optimised by V8; a fresh one would run the
  // first event's thousands of deliveries in the interpreter.
  await round(fanout, WARM_UP, false, 20);
  const results = new Map<number, LevelResult>();
  let baselineP99 = Number.NaN;
  for (const subscriptions of LEVELS) {
    const { p50, p99 } = await measureLatency(fanout, subscriptions, baselineP99);
    if (subscriptions === 1) baselineP99 = p99;
    const heapKb = subscriptions === 1 ? Number.NaN : await measureMemory(fanout, subscriptions);
    results.set(subscriptions, { p50, p99, heapKb });
  }
  return results;
}

/**
 * The floor under multipart at each level above 1 (multipart-floor.ts): a bare server's
 * writes of the same parts to as many responses, read by the same client. Returns p99s.
 */
async function measureMultipartFloor(): Promise<Map<number, number>> {
  heading(
    'multipart floor: a bare node:http server writing the same parts to as many responses (no GraphQL)',
  );
  const floors = new Map<number, number>();
  for (const subscriptions of LEVELS) {
    if (subscriptions === 1) continue;
    const summary = summarize(await multipartFloor(subscriptions, TICKS));
    line(`${subscriptions} responses: publish->receive`, formatSummary(summary));
    floors.set(subscriptions, summary.p99);
  }
  return floors;
}

/** The targets, each transport against graphql-sse's figures of the same run (multipart also against its floor). */
function printTargets(
  byTransport: Map<string, Map<number, LevelResult>>,
  multipartFloors: Map<number, number>,
): void {
  heading('fanout targets: p99 < 20 ms, within 1.5x of graphql-sse, <= 16 KB per subscription');
  const sse = byTransport.get('sse');
  for (const [transport, levels] of byTransport) {
    for (const [subscriptions, result] of levels) {
      if (subscriptions === 1) continue;
      const ratio = sse?.get(subscriptions) ? result.p99 / sse.get(subscriptions)!.p99 : Number.NaN;
      const verdicts = [
        result.p99 < 20,
        transport === 'sse' || ratio <= 1.5,
        result.heapKb <= MAX_KB_PER_SUBSCRIPTION,
      ].map((met) => (met ? 'MET' : 'MISSED'));
      const floor = transport === 'multipart' ? multipartFloors.get(subscriptions) : undefined;
      const overFloor =
        floor === undefined
          ? ''
          : `; the bare server's floor p99 ${floor.toFixed(1)} ms (${(result.p99 / floor).toFixed(2)}x)`;
      line(
        `${transport} ${subscriptions}`,
        `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms (${Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}x sse`}), ${result.heapKb.toFixed(1)} KB/subscription: ${verdicts.join(' / ')}${overFloor}`,
      );
    }
  }
}

export async function benchFanout(): Promise<void> {
  const database = await openTaskBenchDatabase();
  connectDatabase(database.url, { poolSize: 10 });
  const redisUrl = process.env.REDIS_URL;
  const prefix = `bench:fanout:${Date.now()}:`;
  const pubsub = createPubSub(redisUrl, prefix);
  const { app, close: closeApp } = await benchApp(ADMIN_KEY, pubsub);
  const server = await listenBenchApp(app);
  printSetup(redisUrl);
  const owner = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  // One worker for all levels, warmed up by a first task: what is measured is the fan-out,
  // not a worker process starting.
  const worker = spawnWorkerScript('bench/tasks/worker-process.ts', {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl ?? '',
    PUBSUB_PREFIX: prefix,
    LOG_PUBLISHED: '1',
  });
  const base = { pubsub, worker, ownerId: owner.id, later: new Date(Date.now() + 3_600_000) };
  const urls: Record<string, string> = {
    sse: `${server.baseUrl}/graphql/stream`,
    ws: `${server.baseUrl}/graphql`,
    multipart: `${server.baseUrl}/graphql`,
  };
  try {
    await warmUpWorker({ ...base, url: urls.sse!, client: CLIENTS.sse! });
    const byTransport = new Map<string, Map<number, LevelResult>>();
    for (const transport of TRANSPORTS) {
      heading(`fanout over ${transport}`);
      byTransport.set(
        transport,
        await measureLevels({ ...base, url: urls[transport]!, client: CLIENTS[transport]! }),
      );
    }
    const multipartFloors = TRANSPORTS.includes('multipart')
      ? await measureMultipartFloor()
      : new Map<number, number>();
    printTargets(byTransport, multipartFloors);
  } finally {
    // Never leave a worker behind: it would take the next run's tasks.
    await worker.stop();
    await server.close();
    await closeApp();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}

// `npm run bench -- fanout`: 1,000 and 10,000 concurrent taskProgress subscribers to one
// task on one API process (this one), over each transport in turn (graphql-sse, graphql-ws,
// Apollo's multipart); a worker process writes BENCH_FANOUT_TICKS (100) progress events, 3
// a second, and logs when it publishes each (after its commit); subscribers (another
// process) log when each event arrives: publish→receive. Also printed: from the event's `at`
// (stamped when the worker's statement starts, so its commit is included). This process
// measures its memory per subscription. Baselines (same run): 1 subscriber, graphql-sse, and
// for multipart a bare server's floor (multipart-floor.ts).
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { createPubSub, type PubSub } from '../../src/platform/pubsub.js';
import { toGlobalId } from '../../src/platform/ids.js';
import { benchApp } from '../service.js';
import { enqueue } from '../../src/workers/queue/enqueue.js';
import { wakeWorkers } from '../../src/workers/queue/signals.js';
import { ticker } from './noop.js';
import { listenBenchApp } from '../http-server.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { openTaskBenchDatabase } from './database.js';
import { spawnBenchScript, type BenchChild } from './processes.js';
import { multipartFloor } from './multipart-floor.js';

const ADMIN_KEY = 'bench-admin-key-0123456789';
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
// Events per measured round: every event goes to all subscribers at once, so one late event
// is 1/TICKS of the samples; with 20, one alone set the p99.
const TICKS = Number(process.env.BENCH_FANOUT_TICKS ?? 100);

function settledMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

/** What every round needs: the API to subscribe to, the worker that publishes, the tasks' owner. */
interface Fanout {
  url: string;
  /** The subscriber client (subscribers.ts CLIENT). */
  client: string;
  pubsub: PubSub;
  worker: BenchChild;
  ownerId: string;
  /** runAt of a held-back task. */
  later: Date;
}

interface RoundResult {
  fromPublish: number[];
  fromAt: number[];
  events: number;
  lateEvents: number;
  heapPerSubscription: number;
}

/** Per event sequence, when each subscriber received it (epoch ms, as the subscriber process reports them). */
type Arrivals = Record<string, number[]>;

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

/** When the worker published each event of a task (after its commit), by sequence. */
function publishedAt(fanout: Fanout, taskId: string): Map<number, number> {
  return new Map(
    [
      ...fanout.worker.output().matchAll(new RegExp(`^published ${taskId} (\\d+) (\\d+)$`, 'gm')),
    ].map((m) => [Number(m[1]), Number(m[2])]),
  );
}

async function release(fanout: Fanout, taskId: string): Promise<void> {
  await db().task.update({ where: { id: taskId }, data: { runAt: new Date() } });
  await wakeWorkers(fanout.pubsub, ticker.name);
}

/** Runs a first small task to its end, so the rounds do not measure the worker starting. */
async function warmUpWorker(fanout: Fanout): Promise<void> {
  await fanout.worker.waitFor(/ready \S+/);
  const warmUp = await enqueue(
    ticker,
    {
      payload: { ticks: 5, intervalMs: 20 },
      priority: 'HIGH',
      timeoutSeconds: 60,
      ownerId: fanout.ownerId,
    },
    { pubsub: fanout.pubsub },
  );
  while (
    (await db().task.findUniqueOrThrow({ where: { id: warmUp.task.id } })).status !== 'COMPLETED'
  )
    await new Promise((resolve) => setTimeout(resolve, 50));
}

// Per event: which ones were slow, and for all subscribers or only the last ones.
function printPerEvent(
  subscriptions: number,
  arrivals: Arrivals,
  published: Map<number, number>,
): void {
  for (const [sequence, times] of Object.entries(arrivals)) {
    const each = times.map((at) => at - published.get(Number(sequence))!).sort((a, b) => a - b);
    console.error(
      `${subscriptions} subscribers, sequence ${sequence}: publish->receive min ${each[0]} p50 ${each[each.length >> 1]} max ${each.at(-1)} ms`,
    );
  }
}

/**
 * One task with `subscriptions` subscribers: latencies, or (measureMemory) the heap per
 * subscription instead. Memory needs a forced full collection once all have subscribed,
 * and that collection right before the events made the first event's delivery several
 * times slower (V8 moves the objects and may drop the optimised code of functions idle
 * through it), so the two are measured in separate rounds.
 */
async function round(
  fanout: Fanout,
  subscriptions: number,
  measureMemory: boolean,
  ticks = measureMemory ? 5 : TICKS,
): Promise<RoundResult> {
  // Held back (runAt in an hour) until every subscriber has its first event.
  const { task } = await enqueue(
    ticker,
    {
      payload: { ticks, intervalMs: 300 },
      priority: 'HIGH',
      ownerId: fanout.ownerId,
      runAt: fanout.later,
    },
    { pubsub: fanout.pubsub },
  );
  const before = measureMemory ? settledMemory() : undefined;
  const clients = spawnBenchScript('bench/tasks/subscribers.ts', {
    URL: fanout.url,
    KEY: ADMIN_KEY,
    TASK_ID: toGlobalId('Task', task.id),
    SUBSCRIPTIONS: String(subscriptions),
    PER_CLIENT: process.env.BENCH_FANOUT_PER_CLIENT ?? '100',
    CLIENT: fanout.client,
  });
  try {
    await clients.waitFor(/subscribed/);
    const after = measureMemory ? settledMemory() : undefined;
    await release(fanout, task.id);
    const { latencies, arrivals } = JSON.parse(await clients.waitFor(/^\{"latencies".*\}\n/m)) as {
      latencies: number[];
      arrivals: Arrivals;
    };
    const published = publishedAt(fanout, task.id);
    if (process.env.BENCH_DEBUG) printPerEvent(subscriptions, arrivals, published);
    const fromPublish = Object.entries(arrivals).flatMap(([sequence, times]) =>
      times.map((at) => at - published.get(Number(sequence))!),
    );
    if (fromPublish.some(Number.isNaN)) throw new Error('an event without its publish time');
    // Events whose last subscriber got it 20 ms or more after its publish.
    const lateEvents = Object.entries(arrivals).filter(
      ([sequence, times]) => Math.max(...times) - published.get(Number(sequence))! >= 20,
    ).length;
    return {
      fromPublish,
      fromAt: latencies,
      events: Object.keys(arrivals).length,
      lateEvents,
      heapPerSubscription:
        after && before ? (after.heapUsed - before.heapUsed) / subscriptions / 1024 : Number.NaN,
    };
  } finally {
    await clients.stop();
  }
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
  const worker = spawnBenchScript('bench/tasks/worker-process.ts', {
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

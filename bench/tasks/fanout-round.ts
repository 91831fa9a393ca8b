// One fan-out round (bench/tasks/fanout.ts): a held-back task, its subscribers in another
// process (subscribers.ts), then its events released and each arrival timed from its publish.
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import type { PubSub } from '../../src/platform/pubsub.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { wakeWorkers } from '../../src/queue/signals.js';
import { ticker } from './noop.js';
import { spawnBenchScript, type BenchChild } from './processes.js';

export const ADMIN_KEY = 'bench-admin-key-0123456789';
// Events per measured round: every event goes to all subscribers at once, so one late event
// is 1/TICKS of the samples; with 20, one alone set the p99.
export const TICKS = Number(process.env.BENCH_FANOUT_TICKS ?? 100);

function settledMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

/** What every round needs: the API to subscribe to, the worker that publishes, the tasks' owner. */
export interface Fanout {
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
export async function warmUpWorker(fanout: Fanout): Promise<void> {
  await fanout.worker.waitFor(/ready \S+/);
  const warmUp = await enqueue(
    ticker,
    {
      payload: { ticks: 5, intervalMs: 20 },
      priority: 'HIGH',
      timeoutSeconds: 60,
      ownerId: fanout.ownerId,
      teamId: null,
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
export async function round(
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
      teamId: null,
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

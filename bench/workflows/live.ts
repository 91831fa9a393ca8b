// workflowProgress publish -> receive with 1,000 subscribers on one API process (this one):
// a worker process runs a chain of NOOP steps (three events a step) and logs when it publishes
// each notification (after its commit); the subscribers (another process, the fan-out bench's
// graphql-sse client) log when each event arrives. An event announced by a later sequence's
// notification (a commit writes several) counts from that notification. Baseline: 1 subscriber.
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { formatSummary, line, summarize } from '../stats.js';
import { spawnBenchScript, type BenchChild } from '../tasks/processes.js';
import { chain, type BenchWorkflows } from './fixture.js';
import { check, type Target } from './targets.js';

const QUERY = 'subscription($id: ID!) { workflowProgress(workflowId: $id) { sequence status at } }';

function publishedAt(worker: BenchChild, workflowId: string): Array<[number, number]> {
  return [...worker.output().matchAll(new RegExp(`^published ${workflowId} (\\d+) (\\d+)$`, 'gm'))]
    .map((m) => [Number(m[1]), Number(m[2])] as [number, number])
    .sort((a, b) => a[0] - b[0]);
}

async function round(
  url: string,
  key: string,
  flows: BenchWorkflows,
  worker: BenchChild,
  subscriptions: number,
) {
  const id = await flows.make(chain(40, { waitMs: 150 }), 16);
  const clients = spawnBenchScript('bench/tasks/subscribers.ts', {
    URL: url,
    KEY: key,
    TASK_ID: toGlobalId('Workflow', id),
    SUBSCRIPTIONS: String(subscriptions),
    QUERY,
    FIELD: 'workflowProgress',
  });
  try {
    await clients.waitFor(/^subscribed$/m);
    await flows.start(id);
    // The start's own events (the workflow RUNNING, its first step READY) are published by this
    // process, not the worker: not timed (matched to the worker's first notification, they
    // read as arriving before it was published). Read at once: the worker's first commit of
    // the workflow comes 50 ms after it starts the first step at the earliest (its start record).
    const { lastSequence: started } = await db().workflow.findUniqueOrThrow({
      where: { id },
      select: { lastSequence: true },
    });
    const { arrivals } = JSON.parse(await clients.waitFor(/^\{"latencies".*\}\n/m)) as {
      arrivals: Record<string, number[]>;
    };
    const published = publishedAt(worker, id);
    const announcing = (sequence: number) => published.find(([seq]) => seq >= sequence)?.[1];
    const samples = Object.entries(arrivals).flatMap(([sequence, times]) => {
      if (Number(sequence) <= started) return [];
      const at = announcing(Number(sequence));
      return at === undefined ? [] : times.map((time) => time - at);
    });
    const events = await db().workflowEvent.count({ where: { workflowId: id } });
    return { summary: summarize(samples), events };
  } finally {
    await clients.stop();
  }
}

export async function benchLive(
  url: string,
  key: string,
  flows: BenchWorkflows,
  worker: BenchChild,
  targets: Target[],
): Promise<void> {
  const one = await round(url, key, flows, worker, 1);
  line(
    'baseline: 1 subscriber, publish->receive',
    `${formatSummary(one.summary)} (${one.events} events)`,
  );
  const many = await round(url, key, flows, worker, 1_000);
  line(
    '1,000 subscribers, publish->receive',
    `${formatSummary(many.summary)} (${many.events} events each)`,
  );
  targets.push(
    check('workflowProgress publish->receive p99 at 1,000 subscribers', many.summary.p99, 20),
  );
}

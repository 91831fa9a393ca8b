// `status`: `topic(id) { status progressPercent }` (polling), with
// `{ viewer { user } }` on the same path and key as the baseline: one client alone; 50
// concurrent clients each polling at an interval (clients are told 2-3 s; we poll
// ~10x faster) — the target, p99 < 5 ms; and 50 clients with no pause at all, which
// measures the process's saturation rather than a latency. Then generateTopicReport →
// completion of a 6-section report with the local provider, run by an in-process worker
// with the real task definitions.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/platform/config.js';
import { db } from '../../src/platform/db.js';
import { createAppFeeds } from '../../src/http/feeds.js';
import { startServiceWorker } from '../../src/workers/index.js';
import {
  checkTarget,
  formatSummary,
  heading,
  line,
  ms,
  ratio,
  summarize,
  timeRuns,
  type Summary,
  type TargetCheck,
} from '../stats.js';
import { ok, openTopicBench, type TopicBench } from './database.js';

const CLIENTS = 50;
const INTERVAL_MS = Number(process.env.BENCH_STATUS_INTERVAL_MS ?? 250);
const POLLS_PER_CLIENT = Number(process.env.BENCH_STATUS_POLLS ?? 40);
const SATURATION_REQUESTS = 60;
const REPORTS = Number(process.env.BENCH_REPORTS ?? 10);

const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) { plan topic { id } } }`;
const GENERATE = `mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id status } }`;
const STATUS = `query($id: ID!) { topic(id: $id) { status progressPercent } }`;

/** Each client polls every `intervalMs` (a fixed schedule from a random start), as a UI does. */
async function polling(run: () => Promise<unknown>, intervalMs: number): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      await sleep(Math.random() * intervalMs);
      let due = performance.now();
      for (let i = 0; i < POLLS_PER_CLIENT; i++) {
        const started = performance.now();
        await run();
        samples.push(performance.now() - started);
        due += intervalMs;
        if (due > performance.now()) await sleep(due - performance.now());
      }
    }),
  );
  return samples;
}

/** Every client sends its next request as soon as the last one answers: the process's ceiling. */
async function saturation(
  run: () => Promise<unknown>,
): Promise<{ summary: Summary; perSecond: number }> {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = 0; i < SATURATION_REQUESTS; i++) {
        const t = performance.now();
        await run();
        samples.push(performance.now() - t);
      }
    }),
  );
  return {
    summary: summarize(samples),
    perSecond: samples.length / ((performance.now() - started) / 1000),
  };
}

type PlannedTopic = { plan: string; topic: { id: string } };

async function planned(bench: TopicBench, topic: string, withAgent: boolean) {
  const input = {
    topic,
    templateId: bench.templateId,
    ...(withAgent ? { agentId: bench.agentId } : {}),
  };
  return ok(await bench.gql(PLAN, { input }), 'planTopic').data.planTopic as PlannedTopic;
}

/** A labelled request; the baseline's label starts with 'baseline' and it comes first. */
type StatusRequest = [label: string, run: () => Promise<unknown>];

/** The baseline and the status of a PLANNED and of a GENERATING topic. */
async function statusRequests(bench: TopicBench): Promise<StatusRequest[]> {
  const plannedTopic = await planned(bench, 'status polling', false);
  // A topic GENERATING (its task pending: no worker yet).
  const generating = await planned(bench, 'status polling while generating', false);
  ok(
    await bench.gql(GENERATE, { input: { topicId: generating.topic.id, plan: generating.plan } }),
    'generateTopicReport',
  );
  return [
    [
      'baseline { viewer { user } }',
      async () => ok(await bench.gql('{ viewer { user } }'), 'viewer'),
    ],
    [
      'topic(id) { status progressPercent }, PLANNED',
      async () => ok(await bench.gql(STATUS, { id: plannedTopic.topic.id }), 'topic'),
    ],
    [
      'topic(id) { status progressPercent }, GENERATING',
      async () => ok(await bench.gql(STATUS, { id: generating.topic.id }), 'topic'),
    ],
  ];
}

async function measureOneClient(requests: StatusRequest[]): Promise<void> {
  line('1 client, one request after the other', '');
  let baseline = summarize([]);
  for (const [label, run] of requests) {
    const summary = summarize(await timeRuns(500, run, 20));
    if (label.startsWith('baseline')) baseline = summary;
    line(
      `  ${label}`,
      `${formatSummary(summary)}${label.startsWith('baseline') ? '' : `  p99 ${ratio(summary.p99, baseline.p99)}`}`,
    );
  }
}

/** The target: the worst status p99 over the polling clients. */
async function measurePolling(requests: StatusRequest[]): Promise<TargetCheck> {
  line(
    `${CLIENTS} clients, each polling every ${INTERVAL_MS} ms (${((CLIENTS * 1000) / INTERVAL_MS).toFixed(0)} req/s offered)`,
    '',
  );
  let baseline = summarize([]);
  let worst = 0;
  for (const [label, run] of requests) {
    const summary = summarize(await polling(run, INTERVAL_MS));
    if (label.startsWith('baseline')) baseline = summary;
    else worst = Math.max(worst, summary.p99);
    line(
      `  ${label}`,
      `${formatSummary(summary)}${label.startsWith('baseline') ? '' : `  p50 ${ratio(summary.p50, baseline.p50)}, p99 ${ratio(summary.p99, baseline.p99)}`}`,
    );
  }
  return checkTarget(`topic status p99, ${CLIENTS} polling clients (worst above)`, worst, 5);
}

async function measureSaturation(requests: StatusRequest[]): Promise<void> {
  line(`${CLIENTS} clients, no pause (saturation, not a latency target)`, '');
  let baselineRate = 0;
  for (const [label, run] of requests) {
    const { summary, perSecond } = await saturation(run);
    if (label.startsWith('baseline')) baselineRate = perSecond;
    line(
      `  ${label}`,
      `${perSecond.toFixed(0)} req/s${label.startsWith('baseline') ? '' : ` (${(perSecond / baselineRate).toFixed(2)}x baseline)`}; ${formatSummary(summary)}`,
    );
  }
}

/** What generating a report needs: the API, and the in-process feeds to follow the topic on. */
interface ReportBench {
  bench: TopicBench;
  feeds: ReturnType<typeof createAppFeeds>;
}

/** generateTopicReport → the completion event, following as a subscriber would (in-process feed). */
async function generateOnce(
  reports: ReportBench,
  topic: PlannedTopic,
): Promise<{ returned: number; total: number }> {
  const rowId = Buffer.from(topic.topic.id, 'base64').toString('utf8').split(':')[1]!;
  const feed = reports.feeds.topics.follow(rowId);
  const first = await feed.next();
  if (first.done) throw new Error('no current state');
  const started = performance.now();
  ok(
    await reports.bench.gql(GENERATE, { input: { topicId: topic.topic.id, plan: topic.plan } }),
    'generateTopicReport',
  );
  const returned = performance.now() - started;
  let last = first.value;
  for await (const event of feed) last = event;
  if (last.status !== 'COMPLETED')
    throw new Error(`report ended ${last.status}: ${last.errorMessage}`);
  return { returned, total: performance.now() - started };
}

/** Where the time of the report tasks created since `since` went: waiting to be claimed, running. */
async function printTaskSplit(since: Date): Promise<void> {
  const [split] = await db().$queryRaw<
    [{ wait: number; run: number; sections: number; bytes: number }]
  >`
    SELECT avg(extract(epoch FROM "startedAt" - "createdAt") * 1000)::float8 AS wait,
           avg(extract(epoch FROM "completedAt" - "startedAt") * 1000)::float8 AS run,
           avg((result->>'sections')::int)::float8 AS sections,
           avg((SELECT sum((f->>'bytes')::int) FROM jsonb_array_elements(result->'files') f))::float8 AS bytes
    FROM tasks WHERE type = 'report_generation' AND status = 'COMPLETED' AND "createdAt" >= ${since}`;
  line('  of which: enqueue → claimed (mean)', ms(split.wait));
  line(
    '  of which: task run (mean)',
    `${ms(split.run)} for ${split.sections.toFixed(0)} sections, ${(split.bytes / 1024).toFixed(0)} KiB of files (md + hwpx + docx)`,
  );
}

/** REPORTS minimal reports (the baseline), then REPORTS 6-section ones; prints both. */
async function measureReports(reports: ReportBench): Promise<void> {
  // Baseline: the same pipeline for the smallest report (one section, no agent).
  const minimal = [];
  for (let i = 0; i < REPORTS; i++) {
    const topic = await planned(reports.bench, `minimal ${i}`, false);
    minimal.push(await generateOnce(reports, { ...topic, plan: '# p\n\n## Only\nOne section.\n' }));
  }
  const since = new Date();
  const runs = [];
  for (let i = 0; i < REPORTS; i++)
    runs.push(
      await generateOnce(
        reports,
        await planned(reports.bench, `AI adoption in enterprise knowledge management ${i}`, true),
      ),
    );
  const base = summarize(minimal.map((r) => r.total));
  const totals = summarize(runs.map((r) => r.total));
  line('baseline: 1-section report, no agent → completion', formatSummary(base));
  line(
    'generateTopicReport returns (6 sections)',
    formatSummary(summarize(runs.map((r) => r.returned))),
  );
  line(
    'generateTopicReport → completion event (6 sections)',
    `${formatSummary(totals)}  p50 ${ratio(totals.p50, base.p50)}`,
  );
  await printTaskSplit(since);
}

/** Report generation with an in-process worker running the real task definitions. */
async function benchReportGeneration(bench: TopicBench): Promise<void> {
  heading(
    `topics: generateTopicReport → completion, 6 sections, local provider, agent with ~1,000 documents (${REPORTS} reports, one at a time)`,
  );
  const worker = await startServiceWorker({
    tasks: loadConfig({}).tasks,
    pubsub: bench.pubsub,
    registry: bench.service.registry,
  });
  const feeds = createAppFeeds(bench.pubsub);
  try {
    // Lets the worker take the pending topic above first.
    await sleep(500);
    await measureReports({ bench, feeds });
  } finally {
    await worker.stop(1_000);
    feeds.close();
  }
}

/** Opens (and drops at the end) its own database: call it while no other database is connected. */
export async function benchTopicsStatus(): Promise<TargetCheck[]> {
  const bench = await openTopicBench();
  heading('topics: status polling');
  try {
    const requests = await statusRequests(bench);
    for (const [, run] of requests) await timeRuns(200, run, 0);
    await measureOneClient(requests);
    const checks = [await measurePolling(requests)];
    await measureSaturation(requests);
    await benchReportGeneration(bench);
    return checks;
  } finally {
    await bench.close();
  }
}

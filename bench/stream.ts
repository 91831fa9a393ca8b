// Time to the first streamed hit of agentQueryStream: streamAgentQuery called directly,
// then end to end through a real HTTP server and graphql-sse's own client. Baselines:
// SELECT 1 through the same Prisma client, and a `{ __typename }` query over the same
// SSE transport. Target: first hit under 50 ms.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client as SseClient } from 'graphql-sse';
import { streamAgentQuery } from '../src/resolvers/search/search.js';
import { selectOneBaseline } from './coverage.js';
import { ADMIN_API_KEY, createBenchApp } from './graphql.js';
import type { BenchContext } from './index.js';
import { SEARCH_QUERIES } from './search.js';
import { listenBenchApp } from './http-server.js';
import { checkTarget, formatSummary, heading, line, ms, ratio, repsWithin, summarize, type Summary, type TargetCheck } from './stats.js';

const TARGET_MS = 50;
const MAX_REPS = 3;
const TOP_K = 10;
const SUBSCRIPTION = `subscription($id: ID!, $q: String!, $k: Int) {
  agentQueryStream(agentId: $id, query: $q, topK: $k) {
    __typename
    ... on QueryHit { hit { index chunkId score } }
    ... on QueryFailed { code message }
  }
}`;

interface StreamTiming {
  firstHit: number;
  completed: number;
  hits: number;
}

interface StreamAgent {
  label: string;
  id: string;
}

/** One way of running a stream, and the baseline its first-hit time is compared to. */
interface StreamMode {
  label: string;
  run: (id: string, query: string) => AsyncIterable<string>;
  baseline: number;
}

/** Runs one stream to its end; times are from the call. */
async function timeStream(events: AsyncIterable<string>): Promise<StreamTiming> {
  const started = performance.now();
  let firstHit = Number.NaN;
  let hits = 0;
  for await (const typename of events) {
    if (typename === 'QueryFailed') throw new Error('The stream failed');
    if (typename === 'QueryHit' && hits++ === 0) firstHit = performance.now() - started;
  }
  return { firstHit, completed: performance.now() - started, hits };
}

async function* direct(id: string, query: string): AsyncGenerator<string> {
  for await (const event of streamAgentQuery(id, query, TOP_K)) yield event.__typename;
}

/** The same stream through graphql-sse's client, as an end-to-end caller sees it. */
function overSse(client: SseClient): StreamMode['run'] {
  return async function* (id, query) {
    const results = client.iterate<{ agentQueryStream: { __typename: string } }>({ query: SUBSCRIPTION, variables: { id, q: query, k: TOP_K } });
    for await (const result of results) {
      if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
      yield result.data!.agentQueryStream.__typename;
    }
  };
}

/** `{ __typename }` over the SSE transport: 30 runs, the first 5 untimed. */
async function measureSseBaseline(client: SseClient): Promise<Summary> {
  const sseSamples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    for await (const result of client.iterate({ query: '{ __typename }' })) void result;
    if (i >= 5) sseSamples.push(performance.now() - started);
  }
  const sseBaseline = summarize(sseSamples);
  line('baseline: { __typename } over graphql-sse', formatSummary(sseBaseline));
  return sseBaseline;
}

/** Every search query streamed for one agent in one mode; prints the figures and checks the target. */
async function measureFirstHit(agent: StreamAgent, mode: StreamMode): Promise<TargetCheck> {
  const globalId = encodeGlobalID('Agent', agent.id);
  const warmup = await timeStream(mode.run(globalId, SEARCH_QUERIES[0]!));
  // Up to 3 runs per query, fewer when a stream is slow (about 30 s per agent and mode at most).
  const reps = repsWithin(30_000, warmup.completed, SEARCH_QUERIES.length, 1, MAX_REPS);
  const timings: StreamTiming[] = [];
  const perQuery: string[] = [];
  for (const query of SEARCH_QUERIES) {
    const of: StreamTiming[] = [];
    for (let i = 0; i < reps; i++) of.push(await timeStream(mode.run(globalId, query)));
    timings.push(...of);
    const firstHit = of[0]!.hits ? `first hit p50=${ms(summarize(of.map((t) => t.firstHit)).p50)}` : 'no hits (left out of the first-hit figures)';
    perQuery.push(`${JSON.stringify(query)} x${reps}: ${firstHit}, all ${of[0]!.hits} hits p50=${ms(summarize(of.map((t) => t.completed)).p50)}`);
  }
  const first = summarize(timings.map((t) => t.firstHit));
  const completed = summarize(timings.map((t) => t.completed));
  line(`${agent.label}, ${mode.label}: first hit`, `${formatSummary(first)} (p50 ${ratio(first.p50, mode.baseline)})`);
  line(`${agent.label}, ${mode.label}: completed`, formatSummary(completed));
  for (const entry of perQuery) line('', entry);
  return checkTarget(`first streamed hit p50, ${agent.label}, ${mode.label}`, first.p50, TARGET_MS);
}

export async function benchStream(context: BenchContext): Promise<TargetCheck[]> {
  heading('stream: agentQueryStream, time to first hit');
  const sqlBaseline = await selectOneBaseline();
  const { app, close: closeApp } = await createBenchApp();
  const server = await listenBenchApp(app);
  const client = createClient({
    url: `${server.baseUrl}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    retryAttempts: 0,
  });
  const checks: TargetCheck[] = [];
  try {
    const sseBaseline = await measureSseBaseline(client);
    const modes: StreamMode[] = [
      { label: 'streamAgentQuery (direct)', run: direct, baseline: sqlBaseline },
      { label: 'graphql-sse over HTTP', run: overSse(client), baseline: sseBaseline.p50 },
    ];
    for (const agent of [
      { label: 'root agent', id: context.corpus.rootAgentId },
      { label: 'leaf agent', id: context.corpus.leafAgentId },
    ]) {
      const agentChecks: TargetCheck[] = [];
      for (const mode of modes) agentChecks.push(await measureFirstHit(agent, mode));
      checks.push(...agentChecks);
    }
  } finally {
    client.dispose();
    await server.close();
    await closeApp();
  }
  return checks;
}

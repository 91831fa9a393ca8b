// Time to the first streamed hit of agentQueryStream for every query class and search agent:
// streamAgentQuery called directly, then end to end through a real HTTP server and
// graphql-sse's own client. Baselines: SELECT 1 through the same Prisma client, and a
// `{ __typename }` query over the same SSE transport. Target: first hit p99 under 50 ms.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client as SseClient } from 'graphql-sse';
import { streamAgentQuery } from '../src/services/search/search.js';
import { parseGlobalId } from '../src/schema/ids.js';
import { selectOneBaseline } from './coverage.js';
import { ADMIN_API_KEY, createBenchApp } from './graphql.js';
import type { BenchContext } from './bench-context.js';
import { queryClasses, type QueryClass } from './query-classes.js';
import { CLASS_BUDGET_MS } from './search-queries.js';
import { searchAgents, type SearchAgent } from './search-agents.js';
import { listenBenchApp } from './http-server.js';
import {
  checkTarget,
  formatSummary,
  heading,
  line,
  ratio,
  summarize,
  type Summary,
  type TargetCheck,
} from './stats.js';

const TARGET_MS = 50;
const REPS = 3;
const TOP_K = 10;
/** The direct stream runs as the operator would: every agent is visible. */
const OPERATOR = { isOperator: true, roles: new Map() } as const;
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

const TYPENAMES = {
  started: 'QueryStarted',
  hit: 'QueryHit',
  completed: 'QueryCompleted',
  failed: 'QueryFailed',
};

async function* direct(id: string, query: string): AsyncGenerator<string> {
  for await (const event of streamAgentQuery(parseGlobalId('Agent', id)!, query, TOP_K, OPERATOR))
    yield TYPENAMES[event.kind];
}

/** The same stream through graphql-sse's client, as an end-to-end caller sees it. */
function overSse(client: SseClient): StreamMode['run'] {
  return async function* (id, query) {
    const results = client.iterate<{ agentQueryStream: { __typename: string } }>({
      query: SUBSCRIPTION,
      variables: { id, q: query, k: TOP_K },
    });
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

/** Every query of a class streamed for one agent in one mode; prints the figures and checks the target. */
async function measureFirstHit(
  agent: SearchAgent,
  queryClass: QueryClass,
  mode: StreamMode,
): Promise<TargetCheck> {
  const globalId = encodeGlobalID('Agent', agent.id);
  const timings: StreamTiming[] = [];
  const started = performance.now();
  for (const query of queryClass.queries) {
    if (performance.now() - started > CLASS_BUDGET_MS) break;
    await timeStream(mode.run(globalId, query)); // warm-up
    for (let i = 0; i < REPS; i++) timings.push(await timeStream(mode.run(globalId, query)));
  }
  const first = summarize(timings.map((t) => t.firstHit));
  const completed = summarize(timings.map((t) => t.completed));
  const empty = timings.filter((t) => t.hits === 0).length;
  line(
    `${agent.label}, ${queryClass.label}, ${mode.label}: first hit`,
    `${formatSummary(first)} (p50 ${ratio(first.p50, mode.baseline)})`,
  );
  line(
    '',
    `completed ${formatSummary(completed)}${empty ? `; ${empty} streams without hits left out` : ''}`,
  );
  // No query of the class has a hit in this scope (rare words in a leaf's ~100 chunks): the
  // answer is known when the stream completes, so that time is judged.
  if (first.n === 0)
    return checkTarget(
      `streamed answer (no hits in this scope) p99, ${agent.label}, ${queryClass.label}, ${mode.label}`,
      completed.p99,
      TARGET_MS,
    );
  return checkTarget(
    `first streamed hit p99, ${agent.label}, ${queryClass.label}, ${mode.label}`,
    first.p99,
    TARGET_MS,
  );
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
    const classes = await queryClasses();
    for (const agent of await searchAgents(context.corpus)) {
      for (const queryClass of classes) {
        for (const mode of modes) checks.push(await measureFirstHit(agent, queryClass, mode));
      }
    }
  } finally {
    client.dispose();
    await server.close();
    await closeApp();
  }
  return checks;
}

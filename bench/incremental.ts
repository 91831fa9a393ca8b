// `npm run bench -- incremental`: an agent page on the 1M-chunk corpus's largest agent (the
// root agent): the agent, its coverage and a first answer to a question, asked as a frontend
// on Apollo Client or urql would, over multipart HTTP (`deferSpec=20220824`) with `coverage`
// deferred and `queryAgent { hits }` streamed, against the same query without the directives
// as JSON, alternating in one run: time to the first part and to the last (the whole answer,
// for the plain query). Then the first hit of `queryAgent { hits @stream(initialCount: 0) }`
// (over graphql-sse and multipart) against the first hit of the `agentQueryStream`
// subscription (graphql-sse), interleaved, on the same agent and questions. Then live queries
// (bench/live-queries.ts).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client as SseClient } from 'graphql-sse';
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { ensureCorpus, type Corpus } from './corpus.js';
import { openBenchServer } from './database.js';
import { ADMIN_API_KEY, createBenchApp } from './graphql.js';
import { listenBenchApp } from './http-server.js';
import { queryClasses } from './query-classes.js';
import { benchLiveQueries } from './live-queries.js';
import { machine } from './machine.js';
import { formatSummary, heading, line, ms, pairedDifference, summarize } from './stats.js';
import { check, printTargets, type Target } from './workflows/targets.js';

const REPS = Number(process.env.BENCH_INCREMENTAL_REPS ?? 20);
const WARM_UP = 3;

const AGENT_PAGE = (directives: boolean) => `
  query AgentPage($id: ID!, $q: String!) {
    agent(id: $id) {
      id
      name
      coveragePercent
      ${directives ? '... @defer(label: "coverage") {' : ''}
        coverage { overallCoverage totalDocuments totalChunks gaps { documentCount } }
      ${directives ? '}' : ''}
    }
    queryAgent(agentId: $id, query: $q, topK: 10) {
      totalResults
      hits ${directives ? '@stream(initialCount: 0)' : ''} { index chunkId title score }
    }
  }`;

interface Timing {
  /** From the request to the first complete part (the whole answer for JSON). */
  first: number;
  /** To the end of the answer. */
  last: number;
  parts: number;
}

const MULTIPART = 'multipart/mixed;deferSpec=20220824, application/json';

/** A POST of `query` with the admin key, accepting multipart or JSON only. */
function post(baseUrl: string, query: string, variables: object, multipart: boolean) {
  return fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_API_KEY}`,
      'content-type': 'application/json',
      accept: multipart ? MULTIPART : 'application/json',
    },
    body: JSON.stringify({ query, variables }),
  });
}

/** One POST; counts multipart parts as their delimiters arrive (no part is parsed). */
async function timePage(
  baseUrl: string,
  directives: boolean,
  variables: Record<string, unknown>,
): Promise<Timing> {
  const started = performance.now();
  const response = await post(baseUrl, AGENT_PAGE(directives), variables, directives);
  if (!response.ok) throw new Error(`agent page: HTTP ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  let first = Number.NaN;
  let parts = 0;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (!boundary) continue;
    // A part is complete once the delimiter after its body has come (the first delimiter opens).
    const delimiters = text.split(`\r\n--${boundary}`).length - 1;
    if (delimiters >= 2 && Number.isNaN(first)) first = performance.now() - started;
    parts = Math.max(parts, delimiters - 1);
  }
  const last = performance.now() - started;
  if (!boundary) {
    const body = JSON.parse(text) as { errors?: unknown[] };
    if (body.errors?.length) throw new Error(`agent page: ${JSON.stringify(body.errors)}`);
    return { first: last, last, parts: 1 };
  }
  if (text.includes('"errors"')) throw new Error(`agent page: ${text.slice(0, 500)}`);
  return { first, last, parts };
}

async function benchAgentPage(corpus: Corpus): Promise<void> {
  heading('incremental: an agent page with @defer and @stream, beside the same without');
  const { app, close: closeApp } = await createBenchApp();
  const server = await listenBenchApp(app);
  try {
    const id = encodeGlobalID('Agent', corpus.rootAgentId);
    const questions = (await queryClasses()).map((queryClass) => queryClass.queries[0]!);
    const timings = { incremental: [] as Timing[], plain: [] as Timing[] };
    for (let rep = 0; rep < WARM_UP + REPS; rep++) {
      for (const q of questions) {
        // Alternating, in both orders: neither always runs on a warmer cache.
        const order = rep % 2 ? ([true, false] as const) : ([false, true] as const);
        for (const directives of order) {
          const timing = await timePage(server.baseUrl, directives, { id, q });
          if (rep >= WARM_UP) timings[directives ? 'incremental' : 'plain'].push(timing);
        }
      }
    }
    const plain = summarize(timings.plain.map((t) => t.last));
    const first = summarize(timings.incremental.map((t) => t.first));
    const last = summarize(timings.incremental.map((t) => t.last));
    const parts = summarize(timings.incremental.map((t) => t.parts));
    line('root agent, questions', `${questions.length} (one per query class), ${REPS} rounds`);
    line('without directives (JSON): whole answer', formatSummary(plain));
    line(
      '@defer + @stream (multipart): first part',
      `${formatSummary(first)} (p50 ${(first.p50 / plain.p50).toFixed(3)}x the whole answer's)`,
    );
    line(
      '@defer + @stream (multipart): last part',
      `${formatSummary(last)} (p50 ${(last.p50 / plain.p50).toFixed(2)}x); parts p50 ${parts.p50}`,
    );
  } finally {
    await server.close();
    await closeApp();
  }
}

const SUBSCRIPTION = `subscription Answer($id: ID!, $q: String!) {
  agentQueryStream(agentId: $id, query: $q, topK: 10) {
    __typename
    ... on QueryHit { hit { index chunkId title score } }
    ... on QueryFailed { code message }
  }
}`;
const STREAMED = `query Answer($id: ID!, $q: String!) {
  queryAgent(agentId: $id, query: $q, topK: 10) {
    hits @stream(initialCount: 0) { index chunkId title score }
  }
}`;

type Payload = { errors?: unknown[]; data?: unknown; incremental?: Array<{ items?: unknown[] }> };

/** Milliseconds from the call to the first payload `isHit` says holds a hit (the rest read to the end). */
async function firstHit(
  payloads: AsyncIterable<Payload>,
  isHit: (payload: Payload) => boolean,
): Promise<number> {
  const started = performance.now();
  let first = Number.NaN;
  for await (const payload of payloads) {
    if (payload.errors?.length) throw new Error(JSON.stringify(payload.errors));
    if (Number.isNaN(first) && isHit(payload)) first = performance.now() - started;
  }
  if (Number.isNaN(first)) throw new Error('no hit came');
  return first;
}

/** The streamed query over multipart: the first part with an incremental item, complete. */
async function firstHitOverMultipart(baseUrl: string, variables: object): Promise<number> {
  const started = performance.now();
  const response = await post(baseUrl, STREAMED, variables, true);
  const boundary = /boundary="?([^";]+)"?/.exec(response.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error(`not multipart: ${await response.text()}`);
  const delimiter = `\r\n--${boundary}`;
  let first = Number.NaN;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    const items = text.indexOf('"items"');
    if (Number.isNaN(first) && items >= 0 && text.indexOf(delimiter, items) >= 0)
      first = performance.now() - started;
  }
  if (text.includes('"errors"')) throw new Error(`streamed query: ${text.slice(0, 500)}`);
  if (Number.isNaN(first)) throw new Error('no hit came');
  return first;
}

/**
 * The first hit three ways, interleaved in rotating order: the subscription, the streamed
 * query over the same graphql-sse client, and the streamed query over multipart (a frontend's
 * fetch). Target: the streamed query's first hit no later than the subscription's, asked the
 * same question in the same round (the paired differences' median: its 95 % interval not above 0).
 */
async function benchFirstHit(corpus: Corpus): Promise<Target[]> {
  heading('incremental: first hit, queryAgent { hits @stream } against agentQueryStream');
  const { app, close: closeApp } = await createBenchApp();
  const server = await listenBenchApp(app);
  const client: SseClient = createClient({
    url: `${server.baseUrl}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    retryAttempts: 0,
  });
  const ways = {
    subscription: (variables: Record<string, unknown>) =>
      firstHit(
        client.iterate({ query: SUBSCRIPTION, variables }) as AsyncIterable<Payload>,
        (payload) =>
          (payload.data as { agentQueryStream?: { __typename: string } })?.agentQueryStream
            ?.__typename === 'QueryHit',
      ),
    sse: (variables: Record<string, unknown>) =>
      firstHit(client.iterate({ query: STREAMED, variables }) as AsyncIterable<Payload>, (p) =>
        Boolean(p.incremental?.some((part) => part.items?.length)),
      ),
    multipart: (variables: Record<string, unknown>) =>
      firstHitOverMultipart(server.baseUrl, variables),
  };
  const names = Object.keys(ways) as Array<keyof typeof ways>;
  const times: Record<keyof typeof ways, number[]> = { subscription: [], sse: [], multipart: [] };
  try {
    const id = encodeGlobalID('Agent', corpus.rootAgentId);
    const questions = (await queryClasses()).map((queryClass) => queryClass.queries[0]!);
    let turn = 0;
    for (let rep = 0; rep < WARM_UP + REPS; rep++)
      for (const q of questions) {
        const order = names.map((_, i) => names[(i + turn) % names.length]!);
        turn++;
        for (const name of order) {
          const ms = await ways[name]({ id, q });
          if (rep >= WARM_UP) times[name].push(ms);
        }
      }
    const subscription = summarize(times.subscription);
    line('agentQueryStream (graphql-sse): first hit', formatSummary(subscription));
    const targets: Target[] = [];
    for (const [name, label] of [
      ['sse', 'graphql-sse'],
      ['multipart', 'multipart'],
    ] as const) {
      const streamed = summarize(times[name]);
      const paired = pairedDifference(times[name], times.subscription);
      line(
        `queryAgent hits @stream (${label}): first hit`,
        `${formatSummary(streamed)} (p50 ${(streamed.p50 / subscription.p50).toFixed(2)}x, ` +
          `p99 ${(streamed.p99 / subscription.p99).toFixed(2)}x the subscription's)`,
      );
      line(
        `  minus the subscription's, same question and round`,
        `median ${ms(paired.median)}, 95 % CI ${ms(paired.low)} .. ${ms(paired.high)} (${paired.n} pairs)`,
      );
      // "No later": later only if the whole interval is above 0.
      targets.push(
        check(`@stream first hit (${label}) later than agentQueryStream's: CI low`, paired.low, 0),
      );
    }
    return targets;
  } finally {
    client.dispose();
    await server.close();
    await closeApp();
  }
}

/** The agent page on the corpus (made first if missing), the first hits, then the live queries. */
export async function benchIncremental(): Promise<void> {
  const server = await openBenchServer();
  const targets: Target[] = [];
  try {
    const corpus = await ensureCorpus(server, false);
    connectDatabase(server.url);
    await machine();
    await benchAgentPage(corpus);
    targets.push(...(await benchFirstHit(corpus)));
  } finally {
    await disconnectDatabase();
    await server.stop();
  }
  targets.push(...(await benchLiveQueries()));
  heading('incremental targets');
  printTargets(targets);
}

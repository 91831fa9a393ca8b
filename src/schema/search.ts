import { GraphQLStreamDirective } from '@graphql-tools/utils';
import { getDirectiveValues, type GraphQLResolveInfo } from 'graphql';
import { builder } from './builder.js';
import { iteratorFeed } from '../feeds/push-feed.js';
import { db } from '../platform/db.js';
import type { Agent as AgentRow } from '../generated/prisma/client.js';
import { requireVisibleAgent } from '../services/agents/agents.js';
import type { Caller } from '../services/auth/caller.js';
import { EXACT_COUNT_CAP } from '../services/search/ranking.js';
import {
  collectHits,
  readHits,
  startAgentQuery,
  streamAgentQuery,
  streamRankedHits,
  type QueryStreamEvent,
  type RankedQuery,
  type SearchHit as SearchHitShape,
} from '../services/search/search.js';
import { Agent } from './agents.js';
import { rowIdOrNone } from './ids.js';

const SearchHit = builder.objectRef<SearchHitShape>('SearchHit').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based rank.' }),
    documentId: t.exposeID('documentId'),
    chunkId: t.exposeID('chunkId'),
    title: t.exposeString('title'),
    content: t.exposeString('content'),
    score: t.exposeFloat('score', {
      description:
        "BM25 score over the agent's scope (k1 1.2, b 0.75; IDF and average length from the scope's chunks).",
    }),
  }),
});

const TOTAL_RESULTS =
  `Chunks in the agent's scope that match the query (any of its words; its quoted phrases; ` +
  `none of its minus words): exact up to ${EXACT_COUNT_CAP}, past that possibly an estimate ` +
  `(then totalResultsIsEstimate).`;
const TOTAL_IS_ESTIMATE = 'True when totalResults is an estimate (only past the exact cap).';

/** Whether the field is asked for with @stream (and its `if` is not false), as the executor reads it. */
function streamed(info: GraphQLResolveInfo): boolean {
  const [node] = info.fieldNodes;
  const stream = node && getDirectiveValues(GraphQLStreamDirective, node, info.variableValues);
  return Boolean(stream && stream.if !== false);
}

/**
 * A query whose ranking is under way: its fields wait for it, except a streamed `hits`, which
 * is a stream at once, so an answer asking for nothing else leaves before the ranking is known.
 */
type StartedQuery = { ranking: Promise<RankedQuery> };

const QueryResult = builder.objectRef<StartedQuery>('QueryResult').implement({
  fields: (t) => ({
    hits: t.field({
      type: [SearchHit],
      description:
        'In rank order. With @stream, each hit is sent as soon as its chunk is read: the first ' +
        'before the others are read.',
      // Streamed, an async iterable the executor sends item by item; else the whole list.
      resolve: ({ ranking }, _args, _ctx, info) =>
        streamed(info)
          ? streamRankedHits(ranking)
          : ranking.then(({ ranked }) => collectHits(readHits(ranked))),
    }),
    totalResults: t.int({
      description: TOTAL_RESULTS,
      resolve: async ({ ranking }) => (await ranking).totalResults,
    }),
    totalResultsIsEstimate: t.boolean({
      description: TOTAL_IS_ESTIMATE,
      resolve: async ({ ranking }) => (await ranking).totalResultsIsEstimate,
    }),
    queryTimeMs: t.float({
      description: 'Milliseconds to rank the hits (reading their chunks follows).',
      resolve: async ({ ranking }) => (await ranking).queryTimeMs,
    }),
  }),
});

type EventOf<K extends QueryStreamEvent['kind']> = Extract<QueryStreamEvent, { kind: K }>;

const QueryStarted = builder.objectRef<EventOf<'started'>>('QueryStarted').implement({
  fields: (t) => ({ agentId: t.exposeID('agentId'), query: t.exposeString('query') }),
});
const QueryHit = builder.objectRef<EventOf<'hit'>>('QueryHit').implement({
  fields: (t) => ({ hit: t.expose('hit', { type: SearchHit }) }),
});
const QueryCompleted = builder.objectRef<EventOf<'completed'>>('QueryCompleted').implement({
  fields: (t) => ({
    totalResults: t.exposeInt('totalResults', { description: TOTAL_RESULTS }),
    totalResultsIsEstimate: t.exposeBoolean('totalResultsIsEstimate', {
      description: TOTAL_IS_ESTIMATE,
    }),
    queryTimeMs: t.exposeFloat('queryTimeMs'),
  }),
});
const QueryFailed = builder.objectRef<EventOf<'failed'>>('QueryFailed').implement({
  fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
});

const TYPENAMES = {
  started: 'QueryStarted',
  hit: 'QueryHit',
  completed: 'QueryCompleted',
  failed: 'QueryFailed',
} as const satisfies Record<QueryStreamEvent['kind'], string>;

const QueryStreamEvent = builder.unionType('QueryStreamEvent', {
  types: [QueryStarted, QueryHit, QueryCompleted, QueryFailed],
  resolveType: (event) => TYPENAMES[event.kind],
});

/** The stream of an agent named by its global id: QueryStarted says the id as it was given. */
async function* agentQueryEvents(
  agentGlobalId: string,
  query: string,
  topK: number | null | undefined,
  caller: Caller,
): AsyncGenerator<QueryStreamEvent> {
  for await (const event of streamAgentQuery(
    rowIdOrNone('Agent', agentGlobalId),
    query,
    topK,
    caller,
  ))
    yield event.kind === 'started' ? { ...event, agentId: agentGlobalId } : event;
}

builder.queryField('queryAgent', (t) =>
  t.field({
    type: QueryResult,
    description:
      "Chunks in the agent's scope ranked by BM25: a chunk matches on any word of the " +
      'query; "quoted phrases" must appear, -words must not (web search syntax). English is ' +
      'stemmed without stop words; Korean words match whatever particles follow them. topK: ' +
      'argument, else retrievalConfig.top_k, else 10; max 100.',
    authScopes: { read: true },
    args: {
      agentId: t.arg.id({ required: true }),
      query: t.arg.string({ required: true }),
      topK: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      startAgentQuery(rowIdOrNone('Agent', args.agentId), args.query, args.topK, ctx.caller),
  }),
);

builder.subscriptionType({});

builder.subscriptionField('agentQueryStream', (t) =>
  t.field({
    type: QueryStreamEvent,
    description:
      'QueryStarted, each QueryHit in rank order as soon as the ranking is known (the same ' +
      'ranking as queryAgent), then QueryCompleted; a failure is one QueryFailed. Then the ' +
      'stream ends.',
    authScopes: { read: true },
    args: {
      agentId: t.arg.id({ required: true }),
      query: t.arg.string({ required: true }),
      topK: t.arg.int(),
    },
    subscribe: (_root, args, ctx) =>
      iteratorFeed(agentQueryEvents(args.agentId, args.query, args.topK, ctx.caller)),
    resolve: (event) => event,
  }),
);

builder.subscriptionField('agentUpdated', (t) =>
  t.prismaField({
    type: Agent,
    description:
      'The agent now, then again after every change (update, coverage computation); ends ' +
      'when it is deleted. NOT_FOUND for an unknown id.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    // Checked before the stream starts, so an unknown id is an error result, not a broken stream.
    subscribe: async (_root, { id }, ctx) =>
      ctx.feeds.agents.follow((await requireVisibleAgent(rowIdOrNone('Agent', id), ctx.caller)).id),
    // The row the feed read, with what the selection asks for loaded in one query (an agent
    // deleted since answers with the row the feed read).
    resolve: async (query, agent: AgentRow) =>
      (await db().agent.findUnique({ ...query, where: { id: agent.id } })) ?? agent,
  }),
);

import { builder } from './builder.js';
import { iteratorFeed } from '../feeds/push-feed.js';
import { db } from '../platform/db.js';
import type { Agent as AgentRow } from '../generated/prisma/client.js';
import { requireAgentId } from '../resolvers/agents/agents.js';
import { queryAgent, streamAgentQuery, type QueryStreamEvent, type SearchHit as SearchHitShape } from '../resolvers/search/search.js';
import { Agent } from './agents.js';

const SearchHit = builder.objectRef<SearchHitShape>('SearchHit').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based rank.' }),
    documentId: t.exposeID('documentId'),
    chunkId: t.exposeID('chunkId'),
    title: t.exposeString('title'),
    content: t.exposeString('content'),
    score: t.exposeFloat('score', { description: 'PostgreSQL full-text rank (ts_rank_cd).' }),
  }),
});

const QueryResult = builder.objectRef<{ hits: SearchHitShape[]; totalResults: number; queryTimeMs: number }>('QueryResult').implement({
  fields: (t) => ({
    hits: t.expose('hits', { type: [SearchHit] }),
    totalResults: t.exposeInt('totalResults'),
    queryTimeMs: t.exposeFloat('queryTimeMs'),
  }),
});

type EventOf<T extends QueryStreamEvent['__typename']> = Extract<QueryStreamEvent, { __typename: T }>;

const QueryStarted = builder.objectRef<EventOf<'QueryStarted'>>('QueryStarted').implement({
  fields: (t) => ({ agentId: t.exposeID('agentId'), query: t.exposeString('query') }),
});
const QueryHit = builder.objectRef<EventOf<'QueryHit'>>('QueryHit').implement({
  fields: (t) => ({ hit: t.expose('hit', { type: SearchHit }) }),
});
const QueryCompleted = builder.objectRef<EventOf<'QueryCompleted'>>('QueryCompleted').implement({
  fields: (t) => ({ totalResults: t.exposeInt('totalResults'), queryTimeMs: t.exposeFloat('queryTimeMs') }),
});
const QueryFailed = builder.objectRef<EventOf<'QueryFailed'>>('QueryFailed').implement({
  fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
});

const QueryStreamEvent = builder.unionType('QueryStreamEvent', {
  types: [QueryStarted, QueryHit, QueryCompleted, QueryFailed],
  resolveType: (event) => event.__typename,
});

builder.queryField('queryAgent', (t) =>
  t.field({
    type: QueryResult,
    description: "Chunks in the agent's scope ranked by full-text relevance (topK: argument, else retrievalConfig.top_k, else 10; max 100).",
    authScopes: { read: true },
    args: { agentId: t.arg.id({ required: true }), query: t.arg.string({ required: true }), topK: t.arg.int() },
    resolve: (_root, args) => queryAgent(args.agentId, args.query, args.topK),
  }),
);

builder.subscriptionType({});

builder.subscriptionField('agentQueryStream', (t) =>
  t.field({
    type: QueryStreamEvent,
    description: 'QueryStarted, each QueryHit as soon as it is ranked, then QueryCompleted; a failure is one QueryFailed. Then the stream ends.',
    authScopes: { read: true },
    args: { agentId: t.arg.id({ required: true }), query: t.arg.string({ required: true }), topK: t.arg.int() },
    subscribe: (_root, args) => iteratorFeed(streamAgentQuery(args.agentId, args.query, args.topK)),
    resolve: (event) => event,
  }),
);

builder.subscriptionField('agentUpdated', (t) =>
  t.prismaField({
    type: Agent,
    description: 'The agent now, then again after every change (update, coverage computation); ends when it is deleted. NOT_FOUND for an unknown id.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    // Checked before the stream starts, so an unknown id is an error result, not a broken stream.
    subscribe: async (_root, { id }, ctx) => ctx.feeds.agents.follow(await requireAgentId(id)),
    // The row the feed read, with what the selection asks for loaded in one query (an agent
    // deleted since answers with the row the feed read).
    resolve: async (query, agent: AgentRow) => (await db().agent.findUnique({ ...query, where: { id: agent.id } })) ?? agent,
  }),
);

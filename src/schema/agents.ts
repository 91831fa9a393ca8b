import { readDb } from '../platform/replicas.js';
import { builder } from './builder.js';
import { db } from '../platform/db.js';
import { cloneAgent, createAgent, deleteAgent, updateAgent } from '../services/agents/agents.js';
import { checkPrismaPage, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../platform/pagination.js';
import { rowIdWhere } from '../platform/ids.js';
import type { Caller } from '../services/auth/caller.js';
import { readableTeamIds } from '../services/auth/permissions.js';
import { agentVisibleTo } from '../services/auth/visibility.js';
import { TaxonomyNode } from './taxonomy.js';
import { namingGlobalIds, parseGlobalIds, rowIdOrNone } from './ids.js';
import type { Path } from 'graphql/jsutils/Path.js';
import {
  containsPattern,
  escapeLike,
  matchAgentsByName,
  type NameMatches,
} from '../services/agents/sql/match-agents-by-name.js';

/** agents(search:) finds its matches one by one up to this many, then estimates how many. */
const AGENT_COUNT_EXACT_CAP = 1_000;

export const Agent = builder.prismaNode('Agent', {
  id: { field: 'id' },
  // node(id) sees what agent(id) sees: another team's agent is null.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [agentVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    scopeDescription: t.exposeString('scopeDescription', { nullable: true }),
    taxonomyVersion: t.exposeString('taxonomyVersion'),
    taxonomyNodes: t.field({
      type: [TaxonomyNode],
      description:
        'The selected nodes (each covers its whole subtree), in the order given at creation.',
      select: { nodes: { orderBy: { position: 'asc' }, select: { node: true } } },
      resolve: (agent) => agent.nodes.map((scoped) => scoped.node),
    }),
    retrievalConfig: t.expose('retrievalConfig', { type: 'JSON' }),
    featuresConfig: t.expose('featuresConfig', { type: 'JSON' }),
    coveragePercent: t.exposeFloat('coveragePercent', {
      nullable: true,
      description: 'Last computed; null before the first computation.',
    }),
    totalDocuments: t.exposeInt('totalDocuments'),
    totalChunks: t.exposeInt('totalChunks'),
    lastCoverageUpdate: t.expose('lastCoverageUpdate', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const UpdateAgentInput = builder.inputType('UpdateAgentInput', {
  description: 'Only mutable fields exist here; immutable ones cannot be sent.',
  fields: (t) => ({
    name: t.string(),
    scopeDescription: t.string(),
    retrievalConfig: t.field({ type: 'JSON' }),
    featuresConfig: t.field({ type: 'JSON' }),
  }),
});

const CreateAgentInput = builder.inputType('CreateAgentInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    taxonomyVersion: t.string({ required: true }),
    taxonomyNodeIds: t.idList({ required: true }),
    scopeDescription: t.string(),
    retrievalConfig: t.field({ type: 'JSON' }),
    featuresConfig: t.field({ type: 'JSON' }),
  }),
});

builder.queryField('agent', (t) =>
  t.prismaField({
    type: Agent,
    nullable: true,
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      readDb().agent.findFirst({
        ...query,
        where: { AND: [{ id: rowIdOrNone('Agent', id) }, agentVisibleTo(ctx.caller)] },
      }),
  }),
);

builder.queryField('agents', (t) =>
  t.prismaConnection(
    {
      type: Agent,
      cursor: 'id',
      defaultSize: DEFAULT_PAGE_SIZE,
      maxSize: MAX_PAGE_SIZE,
      description:
        "The agents of the caller's teams, newest first. `search`: case-insensitive " +
        'substring of the name; empty = all.',
      authScopes: { read: true },
      args: { search: t.arg.string() },
      totalCount: async (_root, args, ctx) => (await agentMatches(ctx, args.search)).count,
      extensions: { checkArguments: checkPrismaPage },
      resolve: async (query, _root, args, ctx, info) => {
        searchesOf(ctx).set(pathKey(info.path), args.search);
        const where = await nameFilter(ctx, args.search);
        return readDb().agent.findMany({
          ...query,
          where: { AND: [agentVisibleTo(ctx.caller), where] },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        });
      },
    },
    {
      name: 'AgentConnection',
      fields: (t) => ({
        totalCountIsEstimate: t.boolean({
          description:
            `True when totalCount is the planner's estimate: ` +
            `past ${AGENT_COUNT_EXACT_CAP.toLocaleString('en-US')} matches (or when the ` +
            `planner expects twice that many) they are not counted one by one.`,
          resolve: async (_connection, _args, ctx, info) =>
            (await agentMatches(ctx, searchesOf(ctx).get(pathKey(info.path.prev!)))).isEstimate,
        }),
      }),
    },
    { name: 'AgentEdge' },
  ),
);

/** The search of each `agents` field of a request, by response path (its connection's fields read it). */
const searches = new WeakMap<object, Map<string, string | null | undefined>>();
const matches = new WeakMap<object, Map<string, Promise<NameMatches>>>();

function searchesOf(ctx: object) {
  let found = searches.get(ctx);
  if (!found) searches.set(ctx, (found = new Map()));
  return found;
}

const pathKey = (path: Path): string =>
  path.prev ? `${pathKey(path.prev)}.${path.key}` : String(path.key);

/** Found once per request and search, for the page, totalCount and totalCountIsEstimate alike. */
function agentMatches(ctx: { caller: Caller }, search: string | null | undefined) {
  let byText = matches.get(ctx);
  if (!byText) matches.set(ctx, (byText = new Map()));
  const text = search?.trim() ?? '';
  let found = byText.get(text);
  if (!found)
    byText.set(
      text,
      (found = matchAgentsByName(
        readDb(),
        containsPattern(text),
        AGENT_COUNT_EXACT_CAP,
        readableTeamIds(ctx.caller),
      )),
    );
  return found;
}

/** Few matches: their ids; many: the pattern, over the createdAt order (a page is soon full). */
async function nameFilter(ctx: { caller: Caller }, search: string | null | undefined) {
  const text = search?.trim();
  if (!text) return {};
  const { ids } = await agentMatches(ctx, text);
  // Prisma passes `contains` to ILIKE as is: the search's own % and _ are characters here.
  return ids
    ? { id: { in: ids } }
    : { name: { contains: escapeLike(text), mode: 'insensitive' as const } };
}

builder.mutationField('createAgentFromTaxonomy', (t) =>
  t.prismaField({
    type: Agent,
    description:
      "Into the caller's team, over the taxonomy of that version the caller sees (its own " +
      "team's first, then the default team's).",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateAgentInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const globalIds = input.taxonomyNodeIds;
      const taxonomyNodeIds = parseGlobalIds('TaxonomyNode', globalIds, 'taxonomyNodeIds');
      const agent = await namingGlobalIds(globalIds, taxonomyNodeIds, () =>
        createAgent({ ...input, taxonomyNodeIds }, ctx.caller),
      );
      return db().agent.findUniqueOrThrow({ ...query, where: { id: agent.id } });
    },
  }),
);

builder.mutationField('updateAgent', (t) =>
  t.prismaField({
    type: Agent,
    description:
      'Partial update of the mutable fields. NOT_FOUND for an unknown id (or another ' +
      "team's); FORBIDDEN where the caller's role there does not write.",
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateAgentInput, required: true }),
    },
    resolve: async (query, _root, { id, input }, ctx) => {
      const agent = await updateAgent(rowIdOrNone('Agent', id), input, ctx.caller, ctx.pubsub);
      return db().agent.findUniqueOrThrow({ ...query, where: { id: agent.id } });
    },
  }),
);

builder.mutationField('deleteAgent', (t) =>
  t.id({
    description:
      "Deletes the agent with its tasks and history; a second delete is NOT_FOUND (as is another team's agent).",
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteAgent(rowIdOrNone('Agent', id), ctx.caller, ctx.pubsub);
      return id;
    },
  }),
);

builder.mutationField('cloneAgent', (t) =>
  t.prismaField({
    type: Agent,
    description: "A new agent of the caller's team with the same scope and configs (no history).",
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string() },
    resolve: async (query, _root, { id, name }, ctx) => {
      const agent = await cloneAgent(rowIdOrNone('Agent', id), name, ctx.caller);
      return db().agent.findUniqueOrThrow({ ...query, where: { id: agent.id } });
    },
  }),
);

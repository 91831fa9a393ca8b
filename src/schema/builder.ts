// The Pothos builder: plugins, scalars and the Context type. No GraphQL types are defined here.
import { readDb } from '../platform/replicas.js';
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ArgumentChecksPlugin from './argument-checks.js';
import { GraphQLError, GraphQLScalarType, isObjectType, type GraphQLSchema } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { StateFeed } from '../feeds/state-feed.js';
import type { LogFeed } from '../feeds/log-feed.js';
import type { TaskFeed } from '../feeds/task-feed.js';
import type { Agent } from '../generated/prisma/client.js';
import type PrismaTypes from '../generated/pothos-prisma-types.js';
import { getDatamodel } from '../generated/pothos-prisma-types.js';
import { forbidden } from '../platform/errors.js';
import { EARLIEST_DATE_TIME, isStorableDate, LATEST_DATE_TIME } from '../platform/date-time.js';
import type { Caller } from '../services/auth/caller.js';
import type { ServiceDeps } from '../services/deps.js';
import type { TopicGenerationEvent } from '../services/topics/generation-state.js';
import type { WorkflowEventRow } from '../services/workflows/events.js';
import { graphQLErrorOf } from './errors.js';

/** The live feeds of one API process (made by its app, src/http/feeds.ts): every subscription's source. */
export interface AppFeeds {
  tasks: TaskFeed;
  topics: StateFeed<TopicGenerationEvent>;
  agents: StateFeed<Agent>;
  workflows: LogFeed<WorkflowEventRow, 'workflowEvents'>;
}

/** Per request (HTTP, graphql-sse and the tests alike): who calls, and what the services need. */
export interface Context extends ServiceDeps {
  caller: Caller;
  requestId: string;
  /** Aborts when the request's client goes away: long work it started stops (see cancellableOn). */
  signal?: AbortSignal;
  feeds: AppFeeds;
}

function isNodeType(schema: GraphQLSchema, typename: string): boolean {
  const type = schema.getType(typename);
  return isObjectType(type) && type.getInterfaces().some((each) => each.name === 'Node');
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { read: boolean; write: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
  // Non-null unless a field says otherwise, as most of the contract is.
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // scope-auth after relay, so auth functions see decoded global ids (Pothos docs); argument
  // checks last, so they run after the auth check, just before the field's resolver.
  plugins: [RelayPlugin, ScopeAuthPlugin, PrismaPlugin, ArgumentChecksPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      read: context.caller.scopes.has('READ'),
      write: context.caller.scopes.has('WRITE'),
      admin: context.caller.scopes.has('ADMIN'),
    }),
    unauthorizedError: (_parent, _context, info) =>
      graphQLErrorOf(
        forbidden(`This API key may not use ${info.parentType.name}.${info.fieldName}`),
      ),
  },
  prisma: {
    // Lag-tolerant reads of a query operation go to its read target (src/platform/replicas.ts).
    client: () => readDb(),
    // Prisma 7 no longer ships the DMMF at run time (pothos issue 1530).
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'error',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    nodeQueryOptions: {
      authScopes: { read: true },
      // An id of a type that is no Node finds nothing, as an unknown id of a Node type does.
      resolve: (_root, { id }, _context, info, resolveNode) =>
        isNodeType(info.schema, id.typename) ? resolveNode(id) : null,
    },
    nodesQueryOptions: false,
  },
});

builder.addScalarType('DateTime', storableDateTime(DateTimeResolver));
builder.addScalarType('JSON', JSONResolver);

/**
 * graphql-scalars' DateTime, refusing an instant outside RFC 3339's years as it refuses a
 * malformed one (src/platform/date-time.ts): PostgreSQL cannot take them as Prisma writes them.
 */
function storableDateTime(scalar: GraphQLScalarType<Date, Date>): GraphQLScalarType {
  const config = scalar.toConfig();
  const storable = (date: Date) => {
    if (isStorableDate(date)) return date;
    throw new GraphQLError(
      `DateTime must be between ${EARLIEST_DATE_TIME} and ${LATEST_DATE_TIME}`,
    );
  };
  return new GraphQLScalarType({
    ...config,
    parseValue: (value) => storable(config.parseValue!(value)),
    parseLiteral: (ast, variables) => storable(config.parseLiteral!(ast, variables)),
  });
}

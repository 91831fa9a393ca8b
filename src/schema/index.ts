// Imports every domain for its side effects, then builds the schema.
import { GraphQLDeferDirective, GraphQLStreamDirective } from '@graphql-tools/utils';
import { specifiedDirectives } from 'graphql';
import { builder } from './builder.js';
import { liveDirective } from './live-directive.js';
import { describeInputBounds } from './input-bounds.js';
import './api-keys.js';
import './teams/index.js';
import './taxonomy.js';
import './agents.js';
import './agent-bulk.js';
import './coverage.js';
import './search.js';
import './tasks.js';
import './queue-stats.js';
import './workers.js';
import './templates/index.js';
import './topics/index.js';
import './workflows/index.js';
import './llm/index.js';
import './webhooks/index.js';
import './plugins/index.js';
import './trusted-documents.js';
import './presence.js';

builder.queryType({});
builder.mutationType({});

// @defer and @stream are part of the published schema (schema.graphql, codegen), the same
// definitions yoga's defer-stream plugin would add (docs/clients.md, "@defer and @stream"), and
// @live (the graphql-live-query convention) on queries: answered again as what they read
// changes, on the live transports (src/http/live-query, docs/clients.md "Live queries").
// Pothos passes `directives` on as the whole list: graphql-js's own (@include, @skip, ...) too.
export const schema = describeInputBounds(
  builder.toSchema({
    sortSchema: true,
    directives: [
      ...specifiedDirectives,
      GraphQLDeferDirective,
      GraphQLStreamDirective,
      liveDirective,
    ],
  }),
);

// Agents changed many at a time: all or nothing, with a report per id.
import { builder } from './builder.js';
import { bulkDeleteAgents, bulkUpdateAgents, type BulkResult } from '../services/agents/agents.js';
import { UpdateAgentInput } from './agents.js';
import { rowIdOrNone } from './ids.js';

const BulkAgentResult = builder
  .objectRef<{ id: string; ok: boolean; error: string | null }>('BulkAgentResult')
  .implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      ok: t.exposeBoolean('ok'),
      error: t.exposeString('error', {
        nullable: true,
        description:
          "NOT_FOUND for an unknown id (or another team's); FORBIDDEN for one the caller " +
          'sees but may not change; NOT_APPLIED for the others when any id failed.',
      }),
    }),
  });

const BulkAgentPayload = builder
  .objectRef<{
    applied: boolean;
    results: Array<{ id: string; ok: boolean; error: string | null }>;
  }>('BulkAgentPayload')
  .implement({
    description:
      "All or nothing: `applied` is false and nothing changed when any id was unknown or not the caller's to change.",
    fields: (t) => ({
      applied: t.exposeBoolean('applied'),
      results: t.expose('results', { type: [BulkAgentResult] }),
    }),
  });

const agentRowIds = (ids: readonly string[]) => ids.map((id) => rowIdOrNone('Agent', id));

/** A bulk call's report names each id as the caller sent it, in the order sent. */
const withBulkIds = (
  ids: readonly string[],
  payload: { applied: boolean; results: BulkResult[] },
) => ({
  applied: payload.applied,
  results: payload.results.map((result, index) => ({ id: ids[index]!, ...result })),
});

builder.mutationField('bulkUpdateAgents', (t) =>
  t.field({
    type: BulkAgentPayload,
    authScopes: { write: true },
    args: {
      ids: t.arg.idList({ required: true }),
      input: t.arg({ type: UpdateAgentInput, required: true }),
    },
    resolve: async (_root, { ids, input }, ctx) =>
      withBulkIds(ids, await bulkUpdateAgents(agentRowIds(ids), input, ctx.caller, ctx.pubsub)),
  }),
);

builder.mutationField('bulkDeleteAgents', (t) =>
  t.field({
    type: BulkAgentPayload,
    authScopes: { write: true },
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, ctx) =>
      withBulkIds(ids, await bulkDeleteAgents(agentRowIds(ids), ctx.caller, ctx.pubsub)),
  }),
);

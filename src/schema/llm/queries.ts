// Reading the LLM platform: keys, deployments, routes, the meter (llmCalls,
// llmUsage) and the router's view (routingSnapshot); a caller reads its teams'.
import { roundUsd } from '../../platform/money.js';
import { builder } from '../builder.js';
import { optionalRowId, toGlobalId } from '../ids.js';
import { listLlmCalls, llmUsage } from '../../services/llm/calls.js';
import { listLlmDeployments } from '../../services/llm/deployments.js';
import { listProviderKeys } from '../../services/llm/provider-keys.js';
import { listLlmRoutes } from '../../services/llm/routes.js';
import {
  routingSnapshot,
  type RoutingSnapshot as SnapshotShape,
  type SnapshotCandidate,
} from '../../services/llm/snapshot.js';
import type { UsageRow } from '../../services/llm/sql/usage-rows.js';
import type { LlmCall as LlmCallRow } from '../../generated/prisma/client.js';
import {
  LlmCallOutcomeEnum,
  LlmDeployment,
  LlmRoute,
  LlmRouteStrategyEnum,
  LlmServiceEnum,
  ProviderKey,
} from './types.js';

builder.queryField('providerKeys', (t) =>
  t.field({
    type: [ProviderKey],
    description:
      "The vault's keys of the caller's teams (the operator: all), newest first: hints and " +
      'fingerprints, never secrets.',
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => listProviderKeys(ctx.caller),
  }),
);

builder.queryField('llmDeployments', (t) =>
  t.field({
    type: [LlmDeployment],
    description: "The caller's teams' deployments and the operator's (`env` among them).",
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => listLlmDeployments(ctx.caller),
  }),
);

builder.queryField('llmRoutes', (t) =>
  t.field({
    type: [LlmRoute],
    description: "The caller's teams' routes and the operator's defaults.",
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => listLlmRoutes(ctx.caller),
  }),
);

type CallShape = LlmCallRow & { deployment: { id: string; name: string } | null };

const DeploymentRef = builder
  .objectRef<{ id: string; name: string }>('LlmDeploymentRef')
  .implement({
    fields: (t) => ({
      id: t.id({ resolve: (row) => toGlobalId('LlmDeployment', row.id) }),
      name: t.exposeString('name'),
    }),
  });

const LlmCall = builder.objectRef<CallShape>('LlmCall').implement({
  description: 'One attempt of an LLM call, as metered.',
  fields: (t) => ({
    id: t.id({ resolve: (row) => toGlobalId('LlmCall', row.id) }),
    service: t.field({ type: LlmServiceEnum, resolve: (row) => row.service }),
    outcome: t.field({ type: LlmCallOutcomeEnum, resolve: (row) => row.outcome }),
    deployment: t.field({ type: DeploymentRef, nullable: true, resolve: (row) => row.deployment }),
    provider: t.exposeString('provider'),
    model: t.exposeString('model'),
    attempt: t.exposeInt('attempt'),
    httpStatus: t.exposeInt('httpStatus', { nullable: true }),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    usageEstimated: t.exposeBoolean('usageEstimated', {
      description: 'The provider reported no usage: counted from the text (4 characters a token).',
    }),
    costUsd: t.float({
      description: "At the deployment's prices when the call was made.",
      resolve: (call) => roundUsd(call.costUsd),
    }),
    latencyMs: t.exposeInt('latencyMs'),
    timeToFirstTokenMs: t.exposeInt('timeToFirstTokenMs', { nullable: true }),
    topicId: t.id({
      nullable: true,
      resolve: (row) => (row.topicId ? toGlobalId('Topic', row.topicId) : null),
    }),
    taskId: t.id({
      nullable: true,
      resolve: (row) => (row.taskId ? toGlobalId('Task', row.taskId) : null),
    }),
    workflowId: t.id({
      nullable: true,
      description: 'The workflow the call served: its plan, a replan, or a step.',
      resolve: (row) => (row.workflowId ? toGlobalId('Workflow', row.workflowId) : null),
    }),
    apiKeyId: t.id({
      nullable: true,
      resolve: (row) => (row.apiKeyId ? toGlobalId('ApiKey', row.apiKeyId) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const LlmCallFilter = builder.inputType('LlmCallFilter', {
  fields: (t) => ({
    service: t.field({ type: LlmServiceEnum }),
    outcome: t.field({ type: LlmCallOutcomeEnum }),
    deploymentId: t.id(),
    apiKeyId: t.id(),
    topicId: t.id(),
    workflowId: t.id(),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
  }),
});

const LlmCallConnection = builder.connectionObject(
  { type: LlmCall, name: 'LlmCallConnection' },
  { name: 'LlmCallEdge' },
);

builder.queryField('llmCalls', (t) =>
  t.field({
    type: LlmCallConnection,
    description:
      "Every attempt of the caller's teams' LLM calls (the operator: all), newest first.",
    authScopes: { read: true },
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: LlmCallFilter }) },
    resolve: (_root, { first, after, filter }, ctx) =>
      listLlmCalls(ctx.caller, {
        first,
        after,
        filter: filter && {
          ...filter,
          deploymentId: optionalRowId('LlmDeployment', filter.deploymentId),
          apiKeyId: optionalRowId('ApiKey', filter.apiKeyId),
          topicId: optionalRowId('Topic', filter.topicId),
          workflowId: optionalRowId('Workflow', filter.workflowId),
        },
      }) as never,
  }),
);

const LlmUsageGroupEnum = builder.enumType('LlmUsageGroup', {
  values: ['DEPLOYMENT', 'MODEL', 'DAY', 'API_KEY', 'SERVICE'] as const,
});

type UsageShape = UsageRow & { groupBy: string[] };

const keyOf = (row: UsageShape) =>
  row.groupBy
    .map((group) => {
      if (group === 'DEPLOYMENT') return row.deploymentName ?? '(deleted)';
      if (group === 'MODEL') return row.model;
      if (group === 'DAY') return row.day;
      if (group === 'API_KEY') return row.apiKeyId ? toGlobalId('ApiKey', row.apiKeyId) : '(none)';
      return row.service;
    })
    .join(' / ');

const LlmUsageRow = builder.objectRef<UsageShape>('LlmUsageRow').implement({
  fields: (t) => ({
    key: t.string({
      description:
        "The group's values in groupBy's order, joined by ' / ' (a deployment by name, a day as YYYY-MM-DD UTC).",
      resolve: keyOf,
    }),
    deployment: t.field({
      type: DeploymentRef,
      nullable: true,
      resolve: (row) =>
        row.deploymentId ? { id: row.deploymentId, name: row.deploymentName ?? '' } : null,
    }),
    model: t.exposeString('model', { nullable: true }),
    day: t.exposeString('day', { nullable: true }),
    service: t.exposeString('service', { nullable: true }),
    calls: t.exposeInt('calls'),
    inputTokens: t.exposeFloat('inputTokens'),
    outputTokens: t.exposeFloat('outputTokens'),
    costUsd: t.float({ resolve: (row) => roundUsd(row.costUsd) }),
  }),
});

builder.queryField('llmUsage', (t) =>
  t.field({
    type: [LlmUsageRow],
    description:
      "Calls, tokens and cost of the caller's teams between from (inclusive) and to, grouped " +
      'as asked (at most 366 days; 1,000 rows).',
    authScopes: { read: true },
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      groupBy: t.arg({ type: [LlmUsageGroupEnum], required: true }),
    },
    resolve: (_root, args, ctx) => llmUsage(ctx.caller, args),
  }),
);

const RoutingCandidate = builder.objectRef<SnapshotCandidate>('RoutingCandidate').implement({
  fields: (t) => ({
    deployment: t.field({
      type: DeploymentRef,
      nullable: true,
      description: 'The deployment the route names (a DELETED one too, by its id and name).',
      resolve: (c) => c.named,
    }),
    rank: t.exposeInt('rank'),
    score: t.float({
      nullable: true,
      description: 'PRIORITY: the position; LOWEST_COST: USD; LOWEST_LATENCY: ms (null: unpriced).',
      resolve: (c) => (Number.isFinite(c.score) ? c.score : null),
    }),
    estimatedCostUsd: t.exposeFloat('estimatedCostUsd', {
      nullable: true,
      description: 'Of a typical call of the service; null: unpriced.',
    }),
    latencyP50Ms: t.exposeFloat('latencyP50Ms', {
      nullable: true,
      description: 'Median time to first token of its recent calls.',
    }),
    excludedReason: t.exposeString('excludedReason', {
      nullable: true,
      description:
        'COOLDOWN, KEY_REJECTED, KEY_EXPIRED, KEY_REVOKED, KEY_UNREADABLE, BUDGET_EXCEEDED, DELETED; null: usable.',
    }),
  }),
});

export const RoutingSnapshot = builder.objectRef<SnapshotShape>('RoutingSnapshot').implement({
  fields: (t) => ({
    service: t.field({ type: LlmServiceEnum, resolve: (s) => s.service }),
    strategy: t.field({ type: LlmRouteStrategyEnum, resolve: (s) => s.strategy as 'PRIORITY' }),
    implicit: t.exposeBoolean('implicit', {
      description: 'No route is set: the `env` deployment (LLM_*).',
    }),
    candidates: t.field({ type: [RoutingCandidate], resolve: (s) => s.candidates }),
  }),
});

builder.queryField('routingSnapshot', (t) =>
  t.field({
    type: RoutingSnapshot,
    description:
      "How this process's router ranks the service's candidates for a team now (default: your key's team).",
    authScopes: { read: true },
    args: { service: t.arg({ type: LlmServiceEnum, required: true }), teamId: t.arg.id() },
    resolve: (_root, { service, teamId }, ctx) =>
      routingSnapshot(service, ctx.caller, ctx.llm, optionalRowId('Team', teamId)),
  }),
);

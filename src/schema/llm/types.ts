// The LLM platform's types: enums, provider keys (write-only: a hint and a
// fingerprint, never the secret), deployments and routes.
import type {
  LlmDeployment as DeploymentRow,
  LlmRoute as RouteRow,
  ProviderKey as ProviderKeyRow,
} from '../../generated/prisma/client.js';
import type { PROVIDER_KEY_VIEW } from '../../services/llm/provider-keys.js';
import { builder } from '../builder.js';
import { toGlobalId } from '../ids.js';

export const LlmProviderKindEnum = builder.enumType('LlmProviderKind', {
  values: ['OPENAI_COMPATIBLE', 'ANTHROPIC', 'LOCAL'] as const,
  description:
    'OPENAI_COMPATIBLE (the chat completions API), ANTHROPIC (Messages), LOCAL (the ' +
    'deterministic planner and writer, cost 0).',
});
export const LlmServiceEnum = builder.enumType('LlmService', {
  values: ['PLAN', 'WRITE'] as const,
  description: 'PLAN: planTopic; WRITE: the sections of a report.',
});
export const LlmRouteStrategyEnum = builder.enumType('LlmRouteStrategy', {
  values: ['PRIORITY', 'LOWEST_COST', 'LOWEST_LATENCY'] as const,
});
export const LlmCallOutcomeEnum = builder.enumType('LlmCallOutcome', {
  values: [
    'OK',
    'BAD_REQUEST',
    'REJECTED',
    'RATE_LIMITED',
    'SERVER_ERROR',
    'NETWORK_ERROR',
    'CUT',
    'TIMEOUT',
    'ABORTED',
    'ERROR',
  ] as const,
});

type ProviderKeyShape = Pick<ProviderKeyRow, keyof typeof PROVIDER_KEY_VIEW>;

// One field shared by three object types (Pothos' field builder is generic per type).
const teamIdField = (t: any) =>
  t.id({
    nullable: true,
    description: "The owning team's id; null: the operator's.",
    resolve: (row: { teamId: string | null }) =>
      row.teamId ? toGlobalId('Team', row.teamId) : null,
  });

export const ProviderKey = builder.objectRef<ProviderKeyShape>('ProviderKey').implement({
  description:
    'A provider API key in the vault: write-only (never shown again after addProviderKey).',
  fields: (t) => ({
    id: t.id({ resolve: (key) => toGlobalId('ProviderKey', key.id) }),
    teamId: teamIdField(t),
    name: t.exposeString('name'),
    kind: t.field({ type: LlmProviderKindEnum, resolve: (key) => key.kind }),
    hint: t.exposeString('hint', {
      description: 'The vendor prefix and the last four characters, e.g. sk-…x9Qa.',
    }),
    fingerprint: t.exposeString('fingerprint', { description: 'SHA-256 of the secret, hex.' }),
    masterKeyVersion: t.exposeString('masterKeyVersion', {
      description: 'The master key that wraps its data key.',
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Past it the key is never used.',
    }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    rejectedAt: t.expose('rejectedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The provider answered 401/403 with it; unused until rotated.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    rotatedAt: t.expose('rotatedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const LlmDeployment = builder.objectRef<DeploymentRow>('LlmDeployment').implement({
  fields: (t) => ({
    id: t.id({ resolve: (row) => toGlobalId('LlmDeployment', row.id) }),
    teamId: teamIdField(t),
    name: t.exposeString('name'),
    kind: t.field({ type: LlmProviderKindEnum, resolve: (row) => row.kind }),
    baseUrl: t.exposeString('baseUrl', { nullable: true, description: "null: the vendor's." }),
    model: t.exposeString('model'),
    providerKeyId: t.id({
      nullable: true,
      resolve: (row) => (row.providerKeyId ? toGlobalId('ProviderKey', row.providerKeyId) : null),
    }),
    inputUsdPerMTok: t.exposeFloat('inputUsdPerMTok', { nullable: true }),
    outputUsdPerMTok: t.exposeFloat('outputUsdPerMTok', { nullable: true }),
    fromEnvironment: t.exposeBoolean('fromEnvironment', {
      description: 'The `env` deployment, set by the LLM_* variables.',
    }),
  }),
});

export const LlmRoute = builder.objectRef<RouteRow>('LlmRoute').implement({
  fields: (t) => ({
    id: t.id({ resolve: (row) => toGlobalId('LlmRoute', row.id) }),
    teamId: teamIdField(t),
    service: t.field({ type: LlmServiceEnum, resolve: (row) => row.service }),
    strategy: t.field({ type: LlmRouteStrategyEnum, resolve: (row) => row.strategy }),
    deploymentIds: t.idList({
      resolve: (row) => row.deploymentIds.map((id) => toGlobalId('LlmDeployment', id)),
    }),
    maxAttempts: t.exposeInt('maxAttempts'),
    fallbackToLocal: t.exposeBoolean('fallbackToLocal'),
  }),
});

// The vault, deployments and routes as mutations. Input types are named after
// their mutation; a team's things are its administrators' to change (FORBIDDEN to its other
// members, NOT_FOUND to everyone else), the operator's (teamId null) the operator's.
import { namingGlobalIds, optionalRowId, parseGlobalIds, rowIdOrNone } from '../ids.js';
import { builder } from '../builder.js';
import {
  addProviderKey,
  revokeProviderKey,
  rotateProviderKey,
} from '../../services/llm/provider-keys.js';
import { rewrapProviderKeys } from '../../services/llm/vault-keys.js';
import {
  createLlmDeployment,
  deleteLlmDeployment,
  updateLlmDeployment,
  type LlmDeploymentInput,
} from '../../services/llm/deployments.js';
import { setLlmRoute } from '../../services/llm/routes.js';
import type { Context } from '../builder.js';
import {
  LlmDeployment,
  LlmProviderKindEnum,
  LlmRoute,
  LlmRouteStrategyEnum,
  LlmServiceEnum,
  ProviderKey,
} from './types.js';

const vault = (ctx: Context) => ({ keyring: ctx.llm.keyring, pubsub: ctx.pubsub });

/** This process's router reads the change at once; the others on llmConfigChanged. */
export async function thenForget<T>(ctx: Context, change: Promise<T>): Promise<T> {
  try {
    return await change;
  } finally {
    ctx.llm.catalog.forget();
  }
}
const deploymentDeps = (ctx: Context) => ({
  pubsub: ctx.pubsub,
  allowPrivateBaseUrls: ctx.llm.allowPrivateBaseUrls,
});

const AddProviderKeyInput = builder.inputType('AddProviderKeyInput', {
  fields: (t) => ({
    teamId: t.id({
      description:
        "The owning team (you must administer it); none: your key's team (the operator: the operator's own).",
    }),
    kind: t.field({
      type: LlmProviderKindEnum,
      required: true,
      description: 'OPENAI_COMPATIBLE or ANTHROPIC.',
    }),
    name: t.string({ required: true, description: '1-100 characters.' }),
    secret: t.string({
      required: true,
      description: 'The provider API key: 1 byte to 4 KB; stored encrypted, never shown again.',
    }),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'In the future; past it the key is never used.',
    }),
  }),
});

builder.mutationField('addProviderKey', (t) =>
  t.field({
    type: ProviderKey,
    description:
      'Puts a provider key into the vault (AES-256-GCM under its own data key). The secret is write-only.',
    authScopes: { read: true },
    args: { input: t.arg({ type: AddProviderKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      thenForget(
        ctx,
        addProviderKey(
          { ...input, teamId: optionalRowId('Team', input.teamId) },
          ctx.caller,
          vault(ctx),
        ),
      ),
  }),
);

builder.mutationField('rotateProviderKey', (t) =>
  t.field({
    type: ProviderKey,
    description: 'A new secret for the key (its deployments keep using it); clears a rejection.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      secret: t.arg.string({ required: true }),
      expiresAt: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, { id, secret, expiresAt }, ctx) =>
      thenForget(
        ctx,
        rotateProviderKey(
          rowIdOrNone('ProviderKey', id),
          secret,
          ctx.caller,
          vault(ctx),
          expiresAt,
        ),
      ),
  }),
);

builder.mutationField('revokeProviderKey', (t) =>
  t.field({
    type: ProviderKey,
    description: 'Never used again.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      thenForget(ctx, revokeProviderKey(rowIdOrNone('ProviderKey', id), ctx.caller, ctx)),
  }),
);

builder.mutationField('rewrapProviderKeys', (t) =>
  t.int({
    description:
      "The operator's: every key's data key wrapped again by the newest master key of " +
      'KEY_VAULT_MASTER_KEYS; how many were rewrapped.',
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => thenForget(ctx, rewrapProviderKeys(ctx.caller, vault(ctx))),
  }),
);

const deploymentFields = (required: boolean) => (t: PothosInputFields) => ({
  teamId: t.id({
    description:
      'Create only (given to an update: BAD_USER_INPUT): the owning team (you must ' +
      "administer it); none: your key's team (the operator: the operator's own, usable in " +
      "every team's routes).",
  }),
  name: t.string({
    required,
    description: '1-100 characters, unique per owner (one taken: CONFLICT).',
  }),
  kind: t.field({ type: LlmProviderKindEnum, required }),
  baseUrl: t.string({
    description:
      'http(s) without credentials (user:pass@, or a query parameter named like a key, token ' +
      'or secret) or a fragment (in production: https to a public address); none: the ' +
      "vendor's (LOCAL: none).",
  }),
  model: t.string({ required: false, description: '1-200 characters (LOCAL: none).' }),
  providerKeyId: t.id({
    description:
      'A key of the same owner and kind, neither revoked nor expired (ANTHROPIC: required; LOCAL: none).',
  }),
  inputUsdPerMTok: t.float({
    description: 'USD per million input tokens, 0 to 1,000,000,000; none: not known (LOCAL: none).',
  }),
  outputUsdPerMTok: t.float({
    description:
      'USD per million output tokens, 0 to 1,000,000,000; none: not known (LOCAL: none).',
  }),
});
type PothosInputFields = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];

const CreateLlmDeploymentInput = builder.inputType('CreateLlmDeploymentInput', {
  fields: deploymentFields(true),
});
const UpdateLlmDeploymentInput = builder.inputType('UpdateLlmDeploymentInput', {
  fields: deploymentFields(false),
});

function deploymentInput(input: Record<string, unknown>): LlmDeploymentInput {
  return {
    ...(input as LlmDeploymentInput),
    teamId: optionalRowId('Team', input.teamId as string | null),
    providerKeyId:
      input.providerKeyId === undefined
        ? undefined
        : optionalRowId('ProviderKey', input.providerKeyId as string | null),
  };
}

builder.mutationField('createLlmDeployment', (t) =>
  t.field({
    type: LlmDeployment,
    authScopes: { read: true },
    args: { input: t.arg({ type: CreateLlmDeploymentInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      thenForget(ctx, createLlmDeployment(deploymentInput(input), ctx.caller, deploymentDeps(ctx))),
  }),
);

builder.mutationField('updateLlmDeployment', (t) =>
  t.field({
    type: LlmDeployment,
    description:
      'Changes the fields given (made LOCAL: its model, URL, key and prices are dropped). An ' +
      'input that changes nothing is BAD_USER_INPUT.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateLlmDeploymentInput, required: true }),
    },
    // A teamId given is passed on to be refused (create only), not dropped unseen.
    resolve: (_root, { id, input }, ctx) =>
      thenForget(
        ctx,
        updateLlmDeployment(
          rowIdOrNone('LlmDeployment', id),
          deploymentInput(input),
          ctx.caller,
          deploymentDeps(ctx),
        ),
      ),
  }),
);

builder.mutationField('deleteLlmDeployment', (t) =>
  t.field({
    type: LlmDeployment,
    description: 'Marked deleted: its metered calls keep it; routes naming it skip it.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      thenForget(ctx, deleteLlmDeployment(rowIdOrNone('LlmDeployment', id), ctx.caller, ctx)),
  }),
);

const SetLlmRouteInput = builder.inputType('SetLlmRouteInput', {
  fields: (t) => ({
    teamId: t.id({
      description:
        "The team (you must administer it); none: your key's team (the operator: the default " +
        'route of every team without one).',
    }),
    service: t.field({ type: LlmServiceEnum, required: true }),
    strategy: t.field({ type: LlmRouteStrategyEnum, required: true }),
    deploymentIds: t.idList({
      required: true,
      description: "In priority order: the team's deployments and the operator's; at most 10.",
    }),
    maxAttempts: t.int({
      description: '1-5 (default 3): attempts a call may make across the candidates.',
    }),
    fallbackToLocal: t.boolean({
      description: 'When no candidate answers, the local planner or writer does (default false).',
    }),
  }),
});

builder.mutationField('setLlmRoute', (t) =>
  t.field({
    type: LlmRoute,
    description: 'Sets the route of a service for a team; it replaces the LLM_* choice for it.',
    authScopes: { read: true },
    args: { input: t.arg({ type: SetLlmRouteInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const ids = parseGlobalIds('LlmDeployment', input.deploymentIds, 'deploymentIds');
      return thenForget(
        ctx,
        namingGlobalIds(input.deploymentIds, ids, () =>
          setLlmRoute(
            { ...input, teamId: optionalRowId('Team', input.teamId), deploymentIds: ids },
            ctx.caller,
            ctx.pubsub,
          ),
        ),
      );
    },
  }),
);

import { builder } from './builder.js';
import type { Scope } from '../generated/prisma/enums.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyView,
} from '../services/api-keys/api-keys.js';
import { optionalRowId, rowIdOrNone, toGlobalId } from './ids.js';

export const ScopeEnum = builder.enumType('Scope', { values: ['READ', 'WRITE', 'ADMIN'] as const });

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    user: t.string({ required: true }),
    name: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], required: true }),
    teamId: t.id({
      description:
        "The key's team (the user must be a member). None: the user's personal team, made on first use.",
    }),
  }),
});

export const ApiKey = builder.objectRef<ApiKeyView>('ApiKey').implement({
  description: 'A minted key as its viewers see it: never the key itself.',
  fields: (t) => ({
    id: t.id({ resolve: (key) => toGlobalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    user: t.string({ resolve: (key) => key.user.name }),
    prefix: t.exposeString('prefix', {
      description: 'The first characters of the key, to recognise it.',
    }),
    scopes: t.expose('scopes', {
      type: [ScopeEnum],
      description: "As minted; what the key may do is the lesser of these and its member's role.",
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Last request with this key, to the minute.',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ApiKeyPayload = builder
  .objectRef<{ key: string; user: string; scopes: Scope[]; apiKey: ApiKeyView }>('ApiKeyPayload')
  .implement({
    fields: (t) => ({
      key: t.exposeString('key', {
        description: 'The key itself: shown once, stored only as a hash.',
      }),
      user: t.exposeString('user'),
      scopes: t.expose('scopes', { type: [ScopeEnum] }),
      apiKey: t.field({
        type: ApiKey,
        description: 'The new key as apiKeys lists it (its id revokes it).',
        resolve: (payload) => payload.apiKey,
      }),
    }),
  });

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: ApiKeyPayload,
    description:
      "Mint a key for a member of a team: for yourself up to your role there and your key's " +
      'scopes; for another member if you administer the team (up to their role and yours); ' +
      'the operator for anyone (creating the user on first minting). More than that is ' +
      'FORBIDDEN.',
    authScopes: { read: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createApiKey(
        { ...input, teamId: optionalRowId('Team', input.teamId) },
        ctx.caller,
        ctx.keySettings,
      ),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKey,
    description:
      'Revoke a key (your own, one of a team you administer, or any for the operator): ' +
      'refused at once by every API process (within 5 s if pub/sub is down). NOT_FOUND for ' +
      'any other id.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => revokeApiKey(rowIdOrNone('ApiKey', id), ctx.caller, ctx),
  }),
);

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKey],
    description:
      'Keys the caller sees (its own, and every key of the teams it administers; the ' +
      'operator: all), newest first (at most 1,000), optionally of one user or team.',
    authScopes: { read: true },
    args: { user: t.arg.string(), teamId: t.arg.id() },
    resolve: (_root, { user, teamId }, ctx) =>
      listApiKeys({ user, teamId: optionalRowId('Team', teamId) }, ctx.caller),
  }),
);

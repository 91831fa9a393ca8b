import { builder } from './builder.js';
import type { Scope } from '../generated/prisma/enums.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyView,
} from '../resolvers/auth/api-keys.js';
import { toGlobalId } from '../platform/ids.js';

export const ScopeEnum = builder.enumType('Scope', { values: ['READ', 'WRITE', 'ADMIN'] as const });

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    user: t.string({ required: true }),
    name: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], required: true }),
  }),
});

const ApiKey = builder.objectRef<ApiKeyView>('ApiKey').implement({
  description: 'A minted key as admins see it: never the key itself.',
  fields: (t) => ({
    id: t.id({ resolve: (key) => toGlobalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    user: t.string({ resolve: (key) => key.user.name }),
    prefix: t.exposeString('prefix', {
      description: 'The first characters of the key, to recognise it.',
    }),
    scopes: t.expose('scopes', { type: [ScopeEnum] }),
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

const Viewer = builder.objectRef<{ user: string; scopes: Scope[] }>('Viewer').implement({
  fields: (t) => ({
    user: t.exposeString('user'),
    scopes: t.expose('scopes', {
      type: [ScopeEnum],
      description: 'Effective scopes: ADMIN implies WRITE, WRITE implies READ.',
    }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: ApiKeyPayload,
    description: 'Mint an API key for a user (created on first minting). ADMIN only.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }) => createApiKey(input),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKey,
    description:
      'Revoke a key: refused at once by every API process (within 5 s if pub/sub is down). ADMIN only; NOT_FOUND for an unknown id.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => revokeApiKey(String(id), ctx.caller, ctx),
  }),
);

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKey],
    description: 'Minted keys, newest first (at most 1,000), optionally of one user. ADMIN only.',
    authScopes: { admin: true },
    args: { user: t.arg.string() },
    resolve: (_root, { user }, ctx) => listApiKeys(user, ctx.caller),
  }),
);

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Who the presented API key belongs to, and what it may do.',
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => ({ user: ctx.caller.userName, scopes: [...ctx.caller.scopes] }),
  }),
);

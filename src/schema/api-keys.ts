import { builder } from '../builder.js';
import type { Scope } from '../generated/prisma/enums.js';
import { createApiKey } from '../resolvers/auth.js';

export const ScopeEnum = builder.enumType('Scope', { values: ['READ', 'WRITE', 'ADMIN'] as const });

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    user: t.string({ required: true }),
    name: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], required: true }),
  }),
});

const ApiKeyPayload = builder.objectRef<{ key: string; user: string; scopes: Scope[] }>('ApiKeyPayload').implement({
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The key itself: shown once, stored only as a hash.' }),
    user: t.exposeString('user'),
    scopes: t.expose('scopes', { type: [ScopeEnum] }),
  }),
});

const Viewer = builder.objectRef<{ user: string; scopes: Scope[] }>('Viewer').implement({
  fields: (t) => ({
    user: t.exposeString('user'),
    scopes: t.expose('scopes', { type: [ScopeEnum], description: 'Effective scopes: ADMIN implies WRITE, WRITE implies READ.' }),
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

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Who the presented API key belongs to, and what it may do.',
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => ({ user: ctx.caller.userName, scopes: [...ctx.caller.scopes] }),
  }),
);

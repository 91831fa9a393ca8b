import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../src/db.js';
import { CreateApiKeyMutation, ViewerQuery } from './client/operations.js';
import { errorCodes, graphql } from './utils/graphql.js';
import { useHarness } from './utils/harness.js';

const h = useHarness();

async function mintKey(user: string, scopes: Array<'READ' | 'WRITE' | 'ADMIN'>) {
  const response = await h.gql(CreateApiKeyMutation, { input: { user, name: `${user}-key`, scopes } });
  expect(response.errors).toBeUndefined();
  return response.data!.createApiKey.key;
}

describe('API key authentication', () => {
  it('rejects a request without a key as UNAUTHENTICATED with 401', async () => {
    const response = await h.gql(ViewerQuery, {}, null);
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data ?? null).toBeNull();
  });

  it('rejects an unknown key and a malformed Authorization header', async () => {
    expect(errorCodes(await h.gql(ViewerQuery, {}, 'agk_not_a_real_key'))).toEqual(['UNAUTHENTICATED']);
    const app = await h.startApp();
    const malformed = await graphql(app.fetch, ViewerQuery, {}, { key: null, headers: { authorization: `Basic ${h.adminKey}` } });
    expect(errorCodes(malformed)).toEqual(['UNAUTHENTICATED']);
  });

  it('accepts ADMIN_API_KEY with every scope', async () => {
    const response = await h.gql(ViewerQuery);
    expect(response.data?.viewer).toEqual({ user: 'admin', scopes: expect.arrayContaining(['READ', 'WRITE', 'ADMIN']) });
  });

  it('mints a key once, stores only its hash, and creates the user on first minting', async () => {
    const key = await mintKey('alice', ['READ']);
    expect(key).toMatch(/^agk_[A-Za-z0-9_-]{40,}$/);
    const rows = await db().apiKey.findMany({ where: { user: { name: 'alice' } } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.keyHash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(key);

    await mintKey('alice', ['WRITE']);
    expect(await db().user.count({ where: { name: 'alice' } })).toBe(1);
    expect(await db().apiKey.count({ where: { user: { name: 'alice' } } })).toBe(2);
  });

  it('authenticates with X-API-Key as well as Bearer', async () => {
    const key = await mintKey('bob', ['READ']);
    const app = await h.startApp();
    const response = await graphql(app.fetch, ViewerQuery, {}, { key: null, headers: { 'x-api-key': key } });
    expect(response.data?.viewer).toEqual({ user: 'bob', scopes: ['READ'] });
  });

  it('expands scopes: WRITE implies READ, ADMIN implies both', async () => {
    const writer = await mintKey('carol', ['WRITE']);
    const response = await h.gql(ViewerQuery, {}, writer);
    expect(new Set(response.data?.viewer.scopes)).toEqual(new Set(['READ', 'WRITE']));
  });
});

describe('scopes', () => {
  it('refuses createApiKey to READ and WRITE keys with FORBIDDEN, and writes nothing', async () => {
    const reader = await mintKey('dave', ['READ']);
    const writer = await mintKey('erin', ['WRITE']);
    const before = await db().apiKey.count();
    for (const key of [reader, writer]) {
      const response = await h.gql(CreateApiKeyMutation, { input: { user: 'mallory', name: 'x', scopes: ['ADMIN'] } }, key);
      expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    }
    expect(await db().apiKey.count()).toBe(before);
    expect(await db().user.count({ where: { name: 'mallory' } })).toBe(0);
  });

  it('lets a minted ADMIN key mint keys', async () => {
    const admin = await mintKey('frank', ['ADMIN']);
    const response = await h.gql(CreateApiKeyMutation, { input: { user: 'grace', name: 'g', scopes: ['READ'] } }, admin);
    expect(response.data?.createApiKey.user).toBe('grace');
  });

  it('rejects empty scopes and blank names with BAD_USER_INPUT', async () => {
    const noScopes = await h.gql(CreateApiKeyMutation, { input: { user: 'heidi', name: 'k', scopes: [] } });
    expect(errorCodes(noScopes)).toEqual(['BAD_USER_INPUT']);
    const blank = await h.gql(CreateApiKeyMutation, { input: { user: '  ', name: 'k', scopes: ['READ'] } });
    expect(errorCodes(blank)).toEqual(['BAD_USER_INPUT']);
    expect(await db().user.count({ where: { name: 'heidi' } })).toBe(0);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateApiKeyMutation, ViewerQuery } from '../client/operations.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { redisAvailable, useHarness } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

/** `{ viewer { user } }` over the app's real HTTP server, with `key`. */
const viewerOver = (baseUrl: string, key: string) =>
  fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ viewer { user } }' }),
  });

async function mintKey(user: string, scopes: Array<'READ' | 'WRITE' | 'ADMIN'>) {
  const response = await h.gql(CreateApiKeyMutation, {
    input: { user, name: `${user}-key`, scopes },
  });
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
    expect(errorCodes(await h.gql(ViewerQuery, {}, 'agk_not_a_real_key'))).toEqual([
      'UNAUTHENTICATED',
    ]);
    const app = await h.startApp();
    const malformed = await graphql(
      app.fetch,
      ViewerQuery,
      {},
      { key: null, headers: { authorization: `Basic ${h.adminKey}` } },
    );
    expect(errorCodes(malformed)).toEqual(['UNAUTHENTICATED']);
  });

  it('accepts ADMIN_API_KEY with every scope', async () => {
    const response = await h.gql(ViewerQuery);
    expect(response.data?.viewer).toEqual({
      user: 'admin',
      scopes: expect.arrayContaining(['READ', 'WRITE', 'ADMIN']),
    });
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
    const response = await graphql(
      app.fetch,
      ViewerQuery,
      {},
      { key: null, headers: { 'x-api-key': key } },
    );
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
      const response = await h.gql(
        CreateApiKeyMutation,
        { input: { user: 'mallory', name: 'x', scopes: ['ADMIN'] } },
        key,
      );
      expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    }
    expect(await db().apiKey.count()).toBe(before);
    expect(await db().user.count({ where: { name: 'mallory' } })).toBe(0);
  });

  // A key's ADMIN scope administers its own team now: it mints for itself, and for
  // members of its teams (tests/teams), but not into another user's personal team.
  it('lets a minted ADMIN key mint keys for its own user, not for another user', async () => {
    const admin = await mintKey('frank', ['ADMIN']);
    const own = await h.gql(
      CreateApiKeyMutation,
      { input: { user: 'frank', name: 'f', scopes: ['READ'] } },
      admin,
    );
    expect(own.data?.createApiKey.user).toBe('frank');
    const other = await h.gql(
      CreateApiKeyMutation,
      { input: { user: 'grace', name: 'g', scopes: ['READ'] } },
      admin,
    );
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    expect(await db().user.count({ where: { name: 'grace' } })).toBe(0);
  });

  it('rejects empty scopes and blank names with BAD_USER_INPUT', async () => {
    const noScopes = await h.gql(CreateApiKeyMutation, {
      input: { user: 'heidi', name: 'k', scopes: [] },
    });
    expect(errorCodes(noScopes)).toEqual(['BAD_USER_INPUT']);
    const blank = await h.gql(CreateApiKeyMutation, {
      input: { user: '  ', name: 'k', scopes: ['READ'] },
    });
    expect(errorCodes(blank)).toEqual(['BAD_USER_INPUT']);
    expect(await db().user.count({ where: { name: 'heidi' } })).toBe(0);
  });
});

describe('API key revocation', () => {
  const LIST =
    'query($user: String) { apiKeys(user: $user) { id name user prefix scopes createdAt lastUsedAt revokedAt } }';
  const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id user revokedAt } }';
  const MINT =
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id prefix } } }';

  it('lists keys without secrets, and a revoked key is refused at once', async () => {
    const minted = (
      await h.gql(MINT, { input: { user: 'ivan', name: 'ivan-ci', scopes: ['WRITE'] } })
    ).data.createApiKey;
    expect(minted.key.startsWith(minted.apiKey.prefix)).toBe(true);
    expect((await h.gql(LIST, { user: 'ivan' })).data.apiKeys[0].lastUsedAt).toBeNull();
    expect((await h.gql(ViewerQuery, {}, minted.key)).data?.viewer.user).toBe('ivan');

    // The use is recorded without holding up the request: look until it lands.
    const listed = await waitFor(async () => {
      const response = await h.gql(LIST, { user: 'ivan' });
      return response.data.apiKeys[0].lastUsedAt ? response : undefined;
    }, 'lastUsedAt to be recorded');
    expect(listed.data.apiKeys).toEqual([
      {
        id: minted.apiKey.id,
        name: 'ivan-ci',
        user: 'ivan',
        prefix: minted.apiKey.prefix,
        scopes: ['WRITE'],
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(minted.key);

    const revoked = await h.gql(REVOKE, { id: minted.apiKey.id });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeApiKey).toMatchObject({
      id: minted.apiKey.id,
      user: 'ivan',
      revokedAt: expect.any(String),
    });
    // The key was cached by the request above; revoking drops it from this process's cache.
    const refused = await h.gql(ViewerQuery, {}, minted.key);
    expect(refused.status).toBe(401);
    expect(errorCodes(refused)).toEqual(['UNAUTHENTICATED']);
    const row = await db().apiKey.findFirstOrThrow({
      where: { prefix: minted.apiKey.prefix, user: { name: 'ivan' } },
    });
    expect(row.revokedAt?.toISOString()).toBe(revoked.data.revokeApiKey.revokedAt);

    // Again: nothing changes.
    const again = await h.gql(REVOKE, { id: minted.apiKey.id });
    expect(again.data.revokeApiKey.revokedAt).toBe(revoked.data.revokeApiKey.revokedAt);
  });

  // A key sees and revokes its own user's keys; another user's key does not exist for it.
  it("answers an unknown, malformed or another user's key id with NOT_FOUND; a key revokes its own user's", async () => {
    expect(
      errorCodes(
        await h.gql(REVOKE, { id: 'QXBpS2V5OjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==' }),
      ),
    ).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.gql(REVOKE, { id: 'garbage' }))).toEqual(['NOT_FOUND']);
    const writer = await mintKey('judy', ['WRITE']);
    const theirs = (
      await h.gql(MINT, { input: { user: 'mallory-2', name: 'm', scopes: ['READ'] } })
    ).data.createApiKey;
    expect(errorCodes(await h.gql(REVOKE, { id: theirs.apiKey.id }, writer))).toEqual([
      'NOT_FOUND',
    ]);
    expect(
      (await db().apiKey.findFirstOrThrow({ where: { prefix: theirs.apiKey.prefix } })).revokedAt,
    ).toBeNull();
    const target = (
      await h.gql(MINT, { input: { user: 'judy', name: 'judy-2', scopes: ['READ'] } })
    ).data.createApiKey;
    const listed = (await h.gql(LIST, {}, writer)).data.apiKeys;
    expect(listed.map((key: { user: string }) => key.user)).toEqual(['judy', 'judy']);
    expect((await h.gql(REVOKE, { id: target.apiKey.id }, writer)).data.revokeApiKey.user).toBe(
      'judy',
    );
  });
});

describe('API key revocation during a lookup', () => {
  // The lookup is one statement (the key, its user and their memberships, one snapshot), so no
  // lock can hold it between reading the key and the rest; what can still happen is a drop
  // (a revocation's or a membership change's signal) arriving while the statement runs.
  it('does not cache a key as valid when a drop landed while the lookup was reading it', async () => {
    const app = await h.startApp();
    const key = await mintKey('lena', ['READ']);
    const keys = app.app.contextOptions.apiKeys;
    const row = await db().apiKey.findUniqueOrThrow({
      where: { keyHash: createHash('sha256').update(key).digest('hex') },
    });
    const inFlight = keys.authenticate(key); // its statement is under way
    keys.forget(row.id); // the signal of a revocation committed meanwhile
    expect(await inFlight).toMatchObject({ userName: 'lena' }); // it read the key unrevoked
    await db().apiKey.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    expect((await viewerOver(app.baseUrl, key)).status).toBe(401); // but did not cache it

    const other = await mintKey('lena', ['READ']);
    const pending = keys.authenticate(other);
    keys.forgetUser(row.userId); // a membership change of the same user, likewise
    expect(await pending).toMatchObject({ userName: 'lena' });
    await db().apiKey.updateMany({
      where: { userId: row.userId },
      data: { revokedAt: new Date() },
    });
    expect((await viewerOver(app.baseUrl, other)).status).toBe(401);
  });
});

describe.skipIf(!redisAvailable)('API key revocation across processes (Redis)', () => {
  it('drops a key revoked elsewhere from the cache as soon as the signal arrives, not after the TTL', async () => {
    const app = await h.startApp({ pubsub: 'redis' });
    await app.pubsub.subscribe('apiKeyRevoked', 'all').ready; // the app's own subscription is live by now too
    const key = await mintKey('kim', ['READ']);
    const viewer = () => viewerOver(app.baseUrl, key);
    expect((await viewer()).status).toBe(200); // cached for 5 s from here
    // Another API process revokes it: the row changes there, and the signal crosses Redis.
    const row = await db().apiKey.update({
      where: { keyHash: createHash('sha256').update(key).digest('hex') },
      data: { revokedAt: new Date() },
    });
    expect((await viewer()).status).toBe(200); // still cached: nothing told this process yet
    const elsewhere = createRedisPubSub(h.redisUrl!, h.pubsubPrefix);
    h.onCleanup(() => elsewhere.close());
    await elsewhere.publish('apiKeyRevoked', 'all', { apiKeyId: row.id });
    const deadline = Date.now() + 2_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await viewer()).status;
    }
    expect(status).toBe(401);
  });
});

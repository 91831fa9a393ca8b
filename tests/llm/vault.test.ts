// The key vault: keys encrypted under their own data key and a master keyring,
// bound to their team and id (a copied row does not open), write-only (a hint and a
// fingerprint), rotated, rewrapped under a new master key, expired and revoked keys never
// used, every change and decrypt audited (append-only), bad input refused naming the
// argument, and production refusing to start (exit 1, one line) with a keyring that cannot
// open a stored key.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import {
  generateKeyringText,
  openSecret,
  parseKeyring,
  secretBinding,
  type Keyring,
} from '../../src/platform/vault.js';
import { checkBaseUrl } from '../../src/services/llm/base-url.js';
import { publicOnlyFetch } from '../../src/platform/outbound-url.js';
import { unopenableKeys } from '../../src/llm/vault.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { rowId, useLlm } from './fixture.js';

const t = useLlm();
const keyringText = (keyring: Keyring) =>
  keyring.keys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(',');

async function sealedRow(id: string) {
  const row = await db().providerKey.findUniqueOrThrow({ where: { id } });
  return {
    row,
    sealed: {
      secretBox: Buffer.from(row.secretBox),
      wrappedKey: Buffer.from(row.wrappedKey),
      masterKeyVersion: row.masterKeyVersion,
    },
  };
}

describe('the key vault', () => {
  it('stores a key encrypted and write-only, bound to its team and id', async () => {
    const secret = 'sk-vault-test-abcdefghij-x9Qa';
    const added = await t.addKey(t.alice.key, secret);
    expect(added.hint).toBe('sk-…x9Qa');
    expect(added.fingerprint).toBe(createHash('sha256').update(secret).digest('hex'));
    const { row, sealed } = await sealedRow(rowId(added.id));
    expect(Buffer.from(row.secretBox).includes(Buffer.from(secret))).toBe(false);
    expect(openSecret(t.h.keyring, sealed, secretBinding(row.teamId, row.id))).toBe(secret);
    // A row copied to another team, or under another id, does not decrypt.
    expect(() =>
      openSecret(t.h.keyring, sealed, secretBinding(t.bob.scope.teamId, row.id)),
    ).toThrow(/does not decrypt/);
    const copyId = crypto.randomUUID();
    await db().providerKey.create({ data: { ...row, id: copyId, teamId: t.bob.scope.teamId } });
    expect((await unopenableKeys(t.h.keyring)).map((k) => k.id)).toEqual([copyId]);
    // Nothing in the schema can read it back.
    const fields = await t.ok(
      '{ __type(name: "ProviderKey") { fields { name } } }',
      {},
      t.alice.key,
    );
    expect(fields.__type.fields.map((f: any) => f.name)).not.toContain('secret');
    await db().$executeRaw`DELETE FROM provider_keys WHERE id = ${copyId}::uuid`;
  });

  it('rotates, revokes, rewraps under a new master key; every change audited, append-only', async () => {
    const added = await t.addKey(t.alice.key, 'sk-rotate-me-0123456789-aaaa');
    const rotated = await t.ok(
      'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-rotated-0123456789-bbbb") { hint fingerprint rotatedAt } }',
      { id: added.id },
      t.alice.key,
    );
    expect(rotated.rotateProviderKey.hint).toBe('sk-…bbbb');
    expect(rotated.rotateProviderKey.fingerprint).not.toBe(added.fingerprint);
    // A new keyring whose newest version is v2: rewrap moves every key to it.
    const next = parseKeyring(
      `v2:${generateKeyringText().split(':')[1]},${keyringText(t.h.keyring)}`,
    );
    await t.configure({ llm: { keyring: next } });
    const rewrapped = await t.ok('mutation { rewrapProviderKeys }', {}, t.h.adminKey);
    expect(rewrapped.rewrapProviderKeys).toBeGreaterThanOrEqual(1);
    const { row, sealed } = await sealedRow(rowId(added.id));
    expect(row.masterKeyVersion).toBe('v2');
    const v2only = { ...next, keys: next.keys.filter((k) => k.version === 'v2') };
    expect(openSecret(v2only, sealed, secretBinding(row.teamId, row.id))).toBe(
      'sk-rotated-0123456789-bbbb',
    );
    expect(await unopenableKeys(v2only)).toEqual([]);
    expect((await unopenableKeys(t.h.keyring)).length).toBeGreaterThan(0);
    await t.ok(
      'mutation($id: ID!) { revokeProviderKey(id: $id) { revokedAt } }',
      { id: added.id },
      t.alice.key,
    );
    const audit = await db().providerKeyAudit.findMany({
      where: { providerKeyId: row.id },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual(['CREATE', 'ROTATE', 'REWRAP', 'REVOKE']);
    await expect(
      db().$executeRaw`UPDATE provider_key_audit SET detail = 'x' WHERE id = ${audit[0]!.id}`,
    ).rejects.toThrow(/append-only/);
    await expect(db().$executeRaw`DELETE FROM provider_key_audit`).rejects.toThrow(/append-only/);
    // The rest of this file keeps the harness's keyring: rewrap back under it.
    await t.configure({
      llm: {
        keyring: parseKeyring(
          `${keyringText(t.h.keyring)},v2:${next.keys[0]!.key.toString('base64')}`,
        ),
      },
    });
    await t.ok('mutation { rewrapProviderKeys }', {}, t.h.adminKey);
    await t.configure();
  });

  it('never uses an expired or revoked key: the route goes on to the next', async () => {
    await t.configure();
    t.primary.reset();
    t.secondary.reset();
    const expiring = await t.addKey(
      t.alice.key,
      'sk-expiring-0123456789-cccc',
      'OPENAI_COMPATIBLE',
      {
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    );
    const first = await t.deployment(t.alice.key, {
      name: 'expiring',
      baseUrl: t.primary.openaiBaseUrl,
      providerKeyId: expiring.id,
    });
    const second = await t.deployment(t.alice.key, {
      name: 'keyless',
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(t.alice.key, { service: 'WRITE', deploymentIds: [first, second] });
    await t.call(t.alice.scope);
    expect(t.primary.requests).toHaveLength(1);
    // Its time passes (set in the row: the schema refuses a past expiresAt).
    await db().providerKey.update({
      where: { id: rowId(expiring.id) },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    t.h.llm.catalog.forget();
    await t.call(t.alice.scope);
    expect(t.primary.requests).toHaveLength(1);
    expect(t.secondary.requests).toHaveLength(1);
    const snapshot = await t.ok(
      '{ routingSnapshot(service: WRITE) { candidates { excludedReason } } }',
      {},
      t.alice.key,
    );
    expect(snapshot.routingSnapshot.candidates.at(-1).excludedReason).toBe('KEY_EXPIRED');
    // The decrypt that served the first call is audited with it.
    await t.h.llm.metering.flush();
    const decrypts = await db().providerKeyAudit.findMany({
      where: { providerKeyId: rowId(expiring.id), action: 'DECRYPT' },
    });
    expect(decrypts).toHaveLength(1);
    const served = await db().llmCall.findUniqueOrThrow({ where: { id: decrypts[0]!.llmCallId! } });
    expect(served).toMatchObject({
      deploymentId: rowId(first),
      outcome: 'OK',
      apiKeyId: t.alice.scope.apiKeyId,
    });
  });

  it('refuses bad input naming the argument', async () => {
    const add = (input: Record<string, unknown>) =>
      t.h.gql(
        'mutation($input: AddProviderKeyInput!) { addProviderKey(input: $input) { id } }',
        { input: { kind: 'ANTHROPIC', name: 'k', secret: 'sk-ant-0123456789', ...input } },
        t.alice.key,
      );
    const problems: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'MISTRAL' }, 'kind'],
      [{ kind: 'LOCAL' }, 'kind'],
      [{ secret: '   ' }, 'secret'],
      [{ secret: 'x'.repeat(4_097) }, 'secret'],
      [{ secret: 'é'.repeat(3_000) }, 'secret'],
      [{ expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'expiresAt'],
    ];
    for (const [input, argument] of problems) {
      const response = await add(input);
      // Its path among the field's arguments (`input.secret`), whether a service's check or its
      // variable's type (an enum's unknown value) refused it (src/schema/errors.ts).
      expect(response.errors?.[0]?.extensions, argument).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: `input.${argument}`,
      });
      expect(response.errors?.[0]?.message, argument).toContain(argument);
    }
    const create = (input: Record<string, unknown>) =>
      t.h.gql(
        'mutation($input: CreateLlmDeploymentInput!) { createLlmDeployment(input: $input) { id } }',
        { input: { name: `d-${Math.random()}`, kind: 'OPENAI_COMPATIBLE', model: 'm', ...input } },
        t.alice.key,
      );
    for (const [input, argument] of [
      [{ kind: 'MISTRAL' }, 'kind'],
      [{ baseUrl: 'ftp://example.com/v1' }, 'baseUrl'],
      [{ baseUrl: 'http://user:pass@example.com/v1' }, 'baseUrl'],
      [{ inputUsdPerMTok: -1 }, 'inputUsdPerMTok'],
      [{ outputUsdPerMTok: -0.5 }, 'outputUsdPerMTok'],
      // The largest double: finite, but no price (it failed to store: INTERNAL_SERVER_ERROR).
      [{ inputUsdPerMTok: Number.MAX_VALUE }, 'inputUsdPerMTok'],
    ] as const) {
      const response = await create(input);
      expect(response.errors?.[0]?.extensions, argument).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: `input.${argument}`,
      });
    }
    const theirs = await t.addKey(t.bob.key, 'sk-bob-0123456789-dddd');
    const foreign = await create({ providerKeyId: theirs.id });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Alice changing Bob's key or deployment: NOT_FOUND, worded as for an id that never was.
    const rotate = (id: string) =>
      t.h.gql(
        'mutation($id: ID!) { rotateProviderKey(id: $id, secret: "sk-rotated-0123456789") { id } }',
        { id },
        t.alice.key,
      );
    const drop = (id: string) =>
      t.h.gql('mutation($id: ID!) { deleteLlmDeployment(id: $id) { id } }', { id }, t.alice.key);
    const bobs = await t.deployment(t.bob.key, {
      name: `b-${Math.random()}`,
      baseUrl: t.primary.openaiBaseUrl,
    });
    for (const [change, real, type] of [
      [rotate, theirs.id, 'ProviderKey'],
      [drop, bobs, 'LlmDeployment'],
    ] as const) {
      const [refused, unknown] = [await change(real), await change(toGlobalId(type, randomUUID()))];
      expect(refused.errors?.[0]?.extensions?.code, type).toBe('NOT_FOUND');
      expect(refused.errors?.[0]?.message, type).toBe(unknown.errors?.[0]?.message);
    }
    const mine = await t.deployment(t.alice.key, {
      name: `m-${Math.random()}`,
      baseUrl: t.primary.openaiBaseUrl,
    });
    for (const maxAttempts of [0, 6]) {
      const response = await t.h.gql(
        'mutation($input: SetLlmRouteInput!) { setLlmRoute(input: $input) { id } }',
        { input: { service: 'PLAN', strategy: 'PRIORITY', deploymentIds: [mine], maxAttempts } },
        t.alice.key,
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'input.maxAttempts',
      });
    }
  });

  it('in production: https to public addresses only, checked again at connect', async () => {
    t.primary.reset();
    await expect(checkBaseUrl('http://api.example.com/v1', false)).rejects.toThrow(/https/);
    await expect(checkBaseUrl('https://127.0.0.1/v1', false)).rejects.toThrow(/non-public/);
    await expect(checkBaseUrl('https://10.1.2.3/v1', false)).rejects.toThrow(/non-public/);
    const guarded = publicOnlyFetch();
    await expect(guarded(`${t.primary.openaiBaseUrl}/chat/completions`)).rejects.toThrow(
      /not a public/,
    );
    const port = new URL(t.primary.openaiBaseUrl).port;
    await expect(guarded(`http://localhost:${port}/v1/chat/completions`)).rejects.toThrow();
    expect(t.primary.requests).toHaveLength(0);
  });

  it('production refuses to start (exit 1, one line) when the keyring cannot open a stored key', async () => {
    const env = {
      NODE_ENV: 'production',
      ROLE: 'api',
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_API_KEY: t.h.adminKey,
      WEBHOOK_SECRET: `whsec_${Buffer.from('a production webhook secret').toString('base64')}`,
      DOWNLOAD_LINK_SECRET: 'a production download link secret, 32+ characters',
      LOAD_DEMO_DATA: 'false',
    };
    const wrong = spawnServiceProcess(
      t.h,
      { ...env, KEY_VAULT_MASTER_KEYS: generateKeyringText() },
      /API listening/,
    );
    let output = '';
    wrong.process.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => wrong.process.once('exit', resolve));
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cannot start: KEY_VAULT_MASTER_KEYS cannot open \d+ stored provider key/,
    );
    const right = spawnServiceProcess(
      t.h,
      { ...env, KEY_VAULT_MASTER_KEYS: keyringText(t.h.keyring) },
      /API listening/,
    );
    await right.ready;
    await right.kill();
  });
});

// Bad input to the LLM platform's mutations ("Bad input"): refused as
// BAD_USER_INPUT naming the argument at fault (a name taken: CONFLICT naming it), never
// echoing a secret, and logged as the caller's mistake (not at error level).
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Log errors (the tests' default is silent): a duplicate name must not be logged as one.
// Set before the logger is made.
const logLevel = vi.hoisted(() => {
  const before = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'error';
  return before;
});

import { db } from '../../src/platform/db.js';
import { logger } from '../../src/platform/logger.js';
import { rowId, useLlm } from './fixture.js';

const t = useLlm();
afterAll(() => {
  process.env.LOG_LEVEL = logLevel;
});

const CREATE =
  'mutation($input: CreateLlmDeploymentInput!) { createLlmDeployment(input: $input) { id name baseUrl model } }';
const UPDATE =
  'mutation($id: ID!, $input: UpdateLlmDeploymentInput!) { updateLlmDeployment(id: $id, input: $input) { id name baseUrl } }';
const ADD_KEY = 'mutation($input: AddProviderKeyInput!) { addProviderKey(input: $input) { id } }';
const ROTATE = 'mutation($id: ID!, $s: String!) { rotateProviderKey(id: $id, secret: $s) { id } }';

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

const create = (input: Record<string, unknown>, key = t.alice.key) =>
  t.h.gql(
    CREATE,
    { input: { name: unique('d'), kind: 'OPENAI_COMPATIBLE', model: 'm', ...input } },
    key,
  );
const update = (id: string, input: Record<string, unknown>, key = t.alice.key) =>
  t.h.gql(UPDATE, { id, input }, key);

/** The response's first error: BAD_USER_INPUT naming `argument`. */
function expectRefused(response: { errors?: any[] }, argument: string, label = argument) {
  expect(response.errors?.[0]?.extensions, label).toMatchObject({
    code: 'BAD_USER_INPUT',
    argument,
  });
}

describe('LLM platform input', () => {
  it('refuses a base URL carrying a credential in its query or a fragment', async () => {
    const base = t.primary.openaiBaseUrl;
    const secret = 'sk-querySECRET';
    const refused = [
      `${base}?api_key=${secret}`,
      `${base}?API-KEY=${secret}`,
      `${base}?key=${secret}`,
      `${base}?access_token=${secret}`,
      `${base}?api-version=2024-06-01&sig=${secret}`,
      `${base}?client_secret=${secret}`,
      `${base}?X-Api-Key=${secret}`,
      `${base}?api%5Fkey=${secret}`,
      // Named by one of its words: cloud providers' signed URLs.
      `${base}?X-Amz-Signature=${secret}`,
      `${base}?X-Amz-Credential=${secret}`,
      `${base}?X-Amz-Security-Token=${secret}`,
      `${base}?X-Goog-Signature=${secret}`,
      `${base}?x_signature=${secret}`,
      `${base}?accessToken=${secret}`,
      // Named in a form's array syntax: its words are the same.
      `${base}?access_token[]=${secret}`,
      `${base}?apiKey[0]=${secret}`,
      `${base}#${secret}`,
    ];
    for (const baseUrl of refused) {
      const response = await create({ baseUrl });
      expectRefused(response, 'input.baseUrl', baseUrl);
      expect(response.errors?.[0]?.message, baseUrl).not.toContain(secret);
    }
    // Other parameters stay (Azure OpenAI's api-version).
    const azure = `${base}?api-version=2024-06-01`;
    const created = await create({ baseUrl: azure });
    expect(created.errors).toBeUndefined();
    expect(created.data.createLlmDeployment.baseUrl).toBe(azure);
    const id = created.data.createLlmDeployment.id;
    expectRefused(await update(id, { baseUrl: `${base}?token=${secret}` }), 'input.baseUrl');
    expectRefused(await update(id, { baseUrl: `${base}#frag` }), 'input.baseUrl');
    const row = await db().llmDeployment.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.baseUrl).toBe(azure);
  });

  it('refuses deployment and key names that hide or reverse what they show, naming input.name', async () => {
    const { id } = (await create({})).data.createLlmDeployment;
    for (const name of ['a\nb', 'bell\u0007', 'pay\u202eevil', 'x\u2066y', '\u200b\u200b']) {
      const label = JSON.stringify(name);
      expectRefused(await create({ name }), 'input.name', label);
      expectRefused(await update(id, { name }), 'input.name', label);
      const added = await t.h.gql(
        ADD_KEY,
        { input: { kind: 'OPENAI_COMPATIBLE', name, secret: 'sk-names-0123456789' } },
        t.alice.key,
      );
      expectRefused(added, 'input.name', label);
    }
    expect(await db().llmDeployment.count({ where: { name: { contains: '\u202e' } } })).toBe(0);
    expect(await db().providerKey.count({ where: { name: { contains: '\u202e' } } })).toBe(0);
    // Joiners between visible characters stay (an emoji sequence).
    expect(
      (await create({ name: unique('team \u{1F468}\u200d\u{1F469}') })).errors,
    ).toBeUndefined();
  });

  it('refuses a provider secret holding a control character, naming secret, not echoing it', async () => {
    const key = await t.addKey(t.alice.key, 'sk-controls-0123456789-eeee');
    for (const control of ['\r\n', '\n', '\t', '\u001b', '\u007f', '\u0085', '\u009f', '€', '🔑']) {
      const secret = `sk-ctl-0123456789${control}x-Injected: 1`;
      const label = JSON.stringify(control);
      const added = await t.h.gql(
        ADD_KEY,
        { input: { kind: 'OPENAI_COMPATIBLE', name: 'k', secret } },
        t.alice.key,
      );
      expectRefused(added, 'input.secret', label);
      expect(added.errors?.[0]?.message, label).not.toContain('sk-ctl');
      const rotated = await t.h.gql(ROTATE, { id: key.id, s: secret }, t.alice.key);
      expectRefused(rotated, 'secret', label);
      expect(rotated.errors?.[0]?.message, label).not.toContain('sk-ctl');
    }
    // Printable text, spaces inside included, is a secret like any other.
    const fine = await t.h.gql(ROTATE, { id: key.id, s: 'sk-with space-0123456789' }, t.alice.key);
    expect(fine.errors).toBeUndefined();
    // Not at either end: an HTTP header drops them, so the provider would get another key.
    for (const secret of [' sk-padded-0123456789', 'sk-padded-0123456789 ']) {
      const label = JSON.stringify(secret);
      const added = await t.h.gql(
        ADD_KEY,
        { input: { kind: 'OPENAI_COMPATIBLE', name: 'k', secret } },
        t.alice.key,
      );
      expectRefused(added, 'input.secret', label);
      expectRefused(await t.h.gql(ROTATE, { id: key.id, s: secret }, t.alice.key), 'secret', label);
    }
  });

  it('a name taken in the team is CONFLICT naming name, not an error in the log', async () => {
    const stream = (logger as any)[pino.symbols.streamSym];
    const lines: string[] = [];
    const spy = vi.spyOn(stream, 'write').mockImplementation((line: any) => {
      lines.push(String(line));
      return true;
    });
    const name = unique('taken');
    const responses = [];
    try {
      expect((await create({ name })).errors).toBeUndefined();
      const other = (await create({ name: unique('other') })).data.createLlmDeployment.id;
      responses.push(await create({ name }), await update(other, { name }));
    } finally {
      spy.mockRestore();
    }
    const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50);
    expect(errors).toEqual([]);
    for (const response of responses) {
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'CONFLICT',
        argument: 'input.name',
      });
      expect(response.errors?.[0]?.message).toBe(`a deployment named ${name} exists in this team`);
    }
    // Another team may use the name.
    expect((await create({ name }, t.bob.key)).errors).toBeUndefined();
  });

  it('a LOCAL deployment takes no model, base URL, key or prices', async () => {
    const key = await t.addKey(t.alice.key, 'sk-local-0123456789-ffff');
    const local = (input: Record<string, unknown>) =>
      t.h.gql(CREATE, { input: { name: unique('local'), kind: 'LOCAL', ...input } }, t.alice.key);
    expectRefused(await local({ model: 'x' }), 'input.model');
    expectRefused(await local({ baseUrl: t.primary.openaiBaseUrl }), 'input.baseUrl');
    expectRefused(await local({ providerKeyId: key.id }), 'input.providerKeyId');
    expectRefused(await local({ inputUsdPerMTok: 1 }), 'input.inputUsdPerMTok');
    const plain = await local({});
    expect(plain.errors).toBeUndefined();
    const id = plain.data.createLlmDeployment.id;
    expectRefused(await update(id, { model: 'x' }), 'input.model');
    // Made LOCAL, a deployment keeps none of what only a provider uses.
    const remote = await t.deployment(t.alice.key, {
      name: unique('remote'),
      baseUrl: t.primary.openaiBaseUrl,
      providerKeyId: key.id,
      inputUsdPerMTok: 1,
    });
    expect((await update(remote, { kind: 'LOCAL' })).errors).toBeUndefined();
    const row = await db().llmDeployment.findUniqueOrThrow({ where: { id: rowId(remote) } });
    expect(row).toMatchObject({
      kind: 'LOCAL',
      model: 'local',
      baseUrl: null,
      providerKeyId: null,
      inputUsdPerMTok: null,
    });
  });

  it('an update that changes nothing, or names a team, is refused', async () => {
    const id = await t.deployment(t.alice.key, {
      name: unique('noop'),
      baseUrl: t.primary.openaiBaseUrl,
    });
    expectRefused(await update(id, {}), 'input');
    expectRefused(await update(id, { name: null }), 'input');
    expectRefused(
      await update(id, { name: unique('moved'), teamId: t.bob.teamId }),
      'input.teamId',
    );
    expectRefused(await update(id, { teamId: t.alice.teamId }), 'input.teamId');
    expect((await update(id, { baseUrl: null })).errors).toBeUndefined();
  });

  it('an expired key is refused as a revoked one is', async () => {
    const expiring = await t.addKey(
      t.alice.key,
      'sk-expired-0123456789-gggg',
      'OPENAI_COMPATIBLE',
      {
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    );
    const id = await t.deployment(t.alice.key, {
      name: unique('expiry'),
      baseUrl: t.primary.openaiBaseUrl,
    });
    await db().providerKey.update({
      where: { id: rowId(expiring.id) },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    expectRefused(await create({ providerKeyId: expiring.id }), 'input.providerKeyId');
    expectRefused(await update(id, { providerKeyId: expiring.id }), 'input.providerKeyId');
  });

  it('GET /api/metrics/routing names the service parameter it refuses', async () => {
    const response = await fetch(`${t.app.baseUrl}/api/metrics/routing?service=bogus`, {
      headers: { authorization: `Bearer ${t.alice.key}` },
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'service' });
  });
});

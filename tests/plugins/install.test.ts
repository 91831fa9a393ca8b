// Installing plugins through the API: manifests checked (each refusal BAD_USER_INPUT at the
// path of its first problem), grants, config and secrets checked, another team's plugin
// NOT_FOUND, a member FORBIDDEN, upgrades that ask for new scopes refused until granted,
// secrets never returned, and an uninstall taking the plugin's endpoint with it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { generateKeyringText, parseKeyring } from '../../src/platform/vault.js';
import { openSecrets } from '../../src/services/plugins/secrets.js';
import { checkPluginSecrets, unopenablePlugins } from '../../src/services/plugins/vault-check.js';
import { StartupError } from '../../src/platform/startup-failure.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { teamWithMember } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';
import {
  example,
  install,
  INSTALL,
  PLUGIN,
  PLUGINS,
  slackInput,
  UNINSTALL,
  UPDATE,
  VALIDATE,
} from './fixture.js';

const h = useHarness();
const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/XXXX';

/** The refusal's code, argument and path. */
const refusal = (response: { errors?: readonly any[] }) => {
  const [error] = response.errors ?? [];
  return {
    code: error?.extensions?.code,
    argument: error?.extensions?.argument,
    path: error?.extensions?.path,
  };
};

describe('plugin manifests', () => {
  it('validates the documented examples, and lists every problem of a bad manifest at its path', async () => {
    // docs/plugins.md shows the very files the tests load.
    const doc = readFileSync(new URL('../../docs/plugins.md', import.meta.url), 'utf8');
    for (const name of ['slack-notifier', 'weather-tool'] as const) {
      const file = readFileSync(
        new URL(`../../docs/examples/${name}.json`, import.meta.url),
        'utf8',
      );
      expect(doc, name).toContain(file.trim());
      const response = await h.gql(VALIDATE, { m: example(name) });
      expect(response.data.validatePluginManifest, name).toEqual({ valid: true, errors: [] });
    }
    const bad = {
      ...example('slack-notifier'),
      version: '1.0',
      events: ['report.completed', 'report.exploded'],
    };
    const response = await h.gql(VALIDATE, { m: bad });
    expect(response.data.validatePluginManifest.valid).toBe(false);
    expect(response.data.validatePluginManifest.errors.map((e: any) => e.path)).toEqual([
      'version',
      'events[1]',
    ]);
    // The same field on Mutation answers alike.
    const asMutation = await h.gql(VALIDATE.replace(/^query/, 'mutation'), { m: bad });
    expect(asMutation.data.validatePluginManifest).toEqual(response.data.validatePluginManifest);
  });

  it.each([
    ['an unknown kind', { kind: 'WIDGET' }, 'manifest.kind'],
    ['a version that is not semver', { version: 'v1' }, 'manifest.version'],
    ['an event type that does not exist', { events: ['report.exploded'] }, 'manifest.events[0]'],
    [
      'a URL on a host it does not ask for',
      {
        scopes: ['events:report.completed'],
        request: { method: 'POST', url: 'https://evil.example.com/hook' },
      },
      'manifest.request.url',
    ],
    [
      'a body using a secret it does not ask for',
      {
        scopes: ['events:report.completed', 'network:hooks.slack.com'],
        request: {
          url: 'https://hooks.slack.com/x',
          body: '{"token": "{{secrets.OTHER}}"}',
        },
      },
      'manifest.request.body',
    ],
    [
      'a schema with a regular expression',
      { config: { type: 'object', properties: { c: { type: 'string', pattern: '(a+)+$' } } } },
      'manifest.config.properties.c.pattern',
    ],
    // A value checked against a schema that refers back to itself overflowed the stack.
    ['a schema that refers to itself', { config: { $ref: '#' } }, 'manifest.config.$ref'],
    [
      'schemas that refer to each other',
      {
        config: {
          $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } },
          $ref: '#/$defs/a',
        },
      },
      'manifest.config.$defs.b.$ref',
    ],
  ])('refuses %s: BAD_USER_INPUT at the path', async (_what, change, path) => {
    const team = await teamWithMember(h, `bad-${path.replace(/\W/g, '').slice(-12)}`);
    const input = slackInput(team.teamId, SLACK_URL);
    const response = await h.gql(
      INSTALL,
      { input: { ...input, manifest: { ...input.manifest, ...change } } },
      team.owner,
    );
    expect(refusal(response)).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'input.manifest',
      path,
    });
    expect(await db().pluginInstallation.count({ where: { teamId: team.teamRowId } })).toBe(0);
  });

  it('refuses a config that fails its schema, a scope not asked for, and a missing secret', async () => {
    const team = await teamWithMember(h, 'bad-install');
    const input = slackInput(team.teamId, SLACK_URL);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ config: { channel: 7 } }, 'config', 'config.channel'],
      [{ config: {} }, 'config', 'config.channel'],
      [
        { grantedScopes: [...input.grantedScopes, 'network:evil.example.com'] },
        'grantedScopes',
        'grantedScopes[3]',
      ],
      [
        { grantedScopes: ['events:report.completed', 'network:hooks.slack.com'] },
        'grantedScopes',
        'grantedScopes',
      ],
      [{ secrets: [] }, 'secrets', 'secrets'],
      [{ secrets: [{ name: 'OTHER', value: 'x' }] }, 'secrets', 'secrets[0].name'],
      // The URL comes from the secret: its host is checked against the grants at install.
      [
        { secrets: [{ name: 'SLACK_WEBHOOK_URL', value: 'https://evil.example.com/steal' }] },
        'secrets',
        'manifest.request.url',
      ],
    ];
    for (const [change, argument, path] of cases) {
      const response = await h.gql(INSTALL, { input: { ...input, ...change } }, team.owner);
      expect(refusal(response), JSON.stringify(change)).toEqual({
        code: 'BAD_USER_INPUT',
        argument: `input.${argument}`,
        path,
      });
    }
    expect(await db().pluginInstallation.count({ where: { teamId: team.teamRowId } })).toBe(0);
  });
});

describe('plugin installations', () => {
  it('installs for an ADMIN, lists for members, never returns a secret, and refuses a MEMBER', async () => {
    const team = await teamWithMember(h, 'plugins-list');
    const refused = await h.gql(
      INSTALL,
      { input: slackInput(team.teamId, SLACK_URL) },
      team.member,
    );
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);

    const installed = await install(h, team.owner, slackInput(team.teamId, SLACK_URL));
    expect(installed).toMatchObject({
      name: 'slack-notifier',
      version: '1.0.0',
      kind: 'INTEGRATION',
      enabled: true,
      status: 'ACTIVE',
      consecutiveFailures: 0,
      events: ['report.completed'],
      secretNames: ['SLACK_WEBHOOK_URL'],
      config: { channel: '#reports' },
      webhookEndpoint: {
        url: '{{secrets.SLACK_WEBHOOK_URL}}',
        eventTypes: ['report.completed'],
        enabled: true,
      },
    });
    expect([...installed.grantedScopes].sort()).toEqual(
      [...example('slack-notifier').scopes].sort(),
    );
    const listed = await h.gql(PLUGINS, { teamId: team.teamId }, team.member);
    expect(listed.data.plugins.map((p: any) => p.id)).toEqual([installed.id]);
    // The secret is nowhere in what any query returns, and stored sealed.
    const everything = JSON.stringify([
      listed,
      await h.gql(PLUGIN, { id: installed.id }, team.owner),
    ]);
    expect(everything).not.toContain('XXXX');
    const stored = await db().pluginSecret.findFirstOrThrow({
      where: { name: 'SLACK_WEBHOOK_URL' },
    });
    expect(Buffer.from(stored.secretBox).toString('latin1')).not.toContain('XXXX');
    const audit = await db().pluginAudit.findMany({ orderBy: { id: 'asc' } });
    expect(audit.filter((row) => row.teamId === team.teamRowId).map((row) => row.action)).toEqual([
      'INSTALL',
      'SECRET_SET',
    ]);

    const again = await h.gql(INSTALL, { input: slackInput(team.teamId, SLACK_URL) }, team.owner);
    expect(errorCodes(again)).toEqual(['CONFLICT']);
  });

  it("answers NOT_FOUND for another team's plugin, and its endpoint changes only with it", async () => {
    const team = await teamWithMember(h, 'plugins-own');
    const other = await teamWithMember(h, 'plugins-other');
    const installed = await install(h, team.owner, slackInput(team.teamId, SLACK_URL));
    const id = installed.id;
    const attempts = [
      await h.gql(PLUGIN, { id }, other.owner),
      await h.gql(UPDATE, { id, input: { enabled: false } }, other.owner),
      await h.gql(UNINSTALL, { id }, other.owner),
      await h.gql(PLUGINS, { teamId: team.teamId }, other.owner),
      await h.gql(
        `mutation($id: ID!, $type: String!) { testPlugin(id: $id, eventType: $type) { ok } }`,
        { id, type: 'report.completed' },
        other.owner,
      ),
    ];
    expect(attempts.map((r) => errorCodes(r)[0])).toEqual([
      'NOT_FOUND',
      'NOT_FOUND',
      'NOT_FOUND',
      'NOT_FOUND',
      'NOT_FOUND',
    ]);
    expect(errorCodes(await h.gql(UPDATE, { id, input: { enabled: false } }, team.member))).toEqual(
      ['FORBIDDEN'],
    );
    const endpointChange = await h.gql(
      `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: "https://example.com/x" }) { id } }`,
      { id: installed.webhookEndpoint.id },
      team.owner,
    );
    expect(errorCodes(endpointChange)).toEqual(['CONFLICT']);
  });

  it('upgrades only with new scopes granted, turns off and on, and uninstalls with its endpoint', async () => {
    const team = await teamWithMember(h, 'plugins-upgrade');
    const installed = await install(h, team.owner, slackInput(team.teamId, SLACK_URL));
    const v2 = {
      ...example('slack-notifier'),
      version: '1.1.0',
      events: ['report.completed', 'report.failed'],
      scopes: [...example('slack-notifier').scopes, 'events:report.failed'],
    };
    const refused = await h.gql(UPDATE, { id: installed.id, input: { manifest: v2 } }, team.owner);
    expect(refusal(refused)).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'input.grantedScopes',
      path: 'grantedScopes',
    });
    expect(refused.errors![0]!.extensions!.newScopes).toEqual(['events:report.failed']);

    const upgraded = await h.gql(
      UPDATE,
      { id: installed.id, input: { manifest: v2, grantedScopes: v2.scopes } },
      team.owner,
    );
    expect(upgraded.errors).toBeUndefined();
    expect(upgraded.data.updatePluginInstallation).toMatchObject({
      version: '1.1.0',
      events: ['report.completed', 'report.failed'],
      webhookEndpoint: { eventTypes: ['report.completed', 'report.failed'] },
    });
    const badVersion = await h.gql(
      UPDATE,
      { id: installed.id, input: { manifest: { ...v2, version: 'next' } } },
      team.owner,
    );
    expect(refusal(badVersion)).toMatchObject({ code: 'BAD_USER_INPUT', path: 'manifest.version' });

    const off = await h.gql(UPDATE, { id: installed.id, input: { enabled: false } }, team.owner);
    expect(off.data.updatePluginInstallation).toMatchObject({
      enabled: false,
      status: 'DISABLED',
      webhookEndpoint: { enabled: false },
    });
    const on = await h.gql(UPDATE, { id: installed.id, input: { enabled: true } }, team.owner);
    expect(on.data.updatePluginInstallation).toMatchObject({ enabled: true, status: 'ACTIVE' });

    const removed = await h.gql(UNINSTALL, { id: installed.id }, team.owner);
    expect(removed.data.uninstallPlugin).toBe(installed.id);
    expect(await db().pluginInstallation.count({ where: { teamId: team.teamRowId } })).toBe(0);
    expect(await db().pluginSecret.count({ where: { installationId: rowId(installed.id) } })).toBe(
      0,
    );
    expect(await db().webhookEndpoint.count({ where: { teamId: team.teamRowId } })).toBe(0);
    expect(errorCodes(await h.gql(PLUGIN, { id: installed.id }, team.owner))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('rewraps plugin secrets with the provider keys, and they still open', async () => {
    const team = await teamWithMember(h, 'plugins-rewrap');
    const installed = await install(h, team.owner, slackInput(team.teamId, SLACK_URL));
    const installation = { id: rowId(installed.id), teamId: rowId(team.teamId) };
    const oldVersion = h.keyring.keys[0]!.version;
    // A new master key first, the old one kept to unwrap (as an operator rotates it).
    const newer = parseKeyring(
      `${generateKeyringText('v9')},${oldVersion}:${h.keyring.keys[0]!.key.toString('base64')}`,
    );
    const keyring = h.llm.keyring;
    Object.assign(h.llm, { keyring: newer });
    try {
      const response = await h.gql('mutation { rewrapProviderKeys }', {});
      expect(response.errors).toBeUndefined();
      const row = await db().pluginSecret.findFirstOrThrow({
        where: { installationId: installation.id },
      });
      expect(row.masterKeyVersion).toBe('v9');
      const onlyNewer = { keys: [newer.keys[0]!], generated: false };
      const opened = await openSecrets(onlyNewer, installation, new Set(['SLACK_WEBHOOK_URL']));
      expect(opened.get('SLACK_WEBHOOK_URL')).toBe(SLACK_URL);
    } finally {
      Object.assign(h.llm, { keyring });
    }
  });

  it('refuses to start in production when the keyring cannot open a plugin secret', async () => {
    const team = await teamWithMember(h, 'plugins-vault-check');
    const installed = await install(h, team.owner, slackInput(team.teamId, SLACK_URL));
    const id = rowId(installed.id);
    expect(await unopenablePlugins(h.llm.keyring)).not.toContain(id);
    const stranger = parseKeyring(generateKeyringText('v7'));
    expect(await unopenablePlugins(stranger)).toContain(id);
    await expect(checkPluginSecrets(stranger, 'production')).rejects.toBeInstanceOf(StartupError);
    await expect(checkPluginSecrets(stranger, 'development')).resolves.toBeUndefined();
  });
});

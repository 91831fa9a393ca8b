// Validating a manifest, installing, listing, changing, testing and uninstalling a team's
// plugins, and running a TOOL. The rules are the services' (src/services/plugins).
import { db } from '../../platform/db.js';
import {
  installPlugin,
  readablePlugin,
  teamPlugins,
  uninstallPlugin,
  validatePluginManifest,
} from '../../services/plugins/installations.js';
import { testPlugin } from '../../services/plugins/test-plugin.js';
import { runPluginTool } from '../../services/plugins/tools.js';
import { updatePluginInstallation } from '../../services/plugins/update.js';
import type { Context } from '../builder.js';
import { builder } from '../builder.js';
import { optionalRowId, rowIdOrNone } from '../ids.js';
import {
  PluginInstallation,
  PluginManifestValidation,
  PluginTestResult,
  PluginToolResult,
} from './types.js';

const pluginDeps = (ctx: Context) => ({ keyring: ctx.llm.keyring, webhooks: ctx.webhooks });

const PluginSecretInput = builder.inputType('PluginSecretInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'A granted secrets:<NAME> scope.' }),
    value: t.string({ required: true, description: 'Stored sealed; never returned by any query.' }),
  }),
});

const InstallPluginInput = builder.inputType('InstallPluginInput', {
  fields: (t) => ({
    teamId: t.id({ description: "Unset: the API key's team." }),
    manifest: t.field({ type: 'JSON', required: true, description: 'docs/plugins.md#manifest' }),
    grantedScopes: t.stringList({
      required: true,
      description:
        'Scopes the manifest asks for that the plugin may use; each one its requests need ' +
        '(their host, their secrets; llm:write for an AGENT) must be among them.',
    }),
    config: t.field({ type: 'JSON', description: "Checked against the manifest's config schema." }),
    secrets: t.field({ type: [PluginSecretInput] }),
  }),
});

const UpdatePluginInstallationInput = builder.inputType('UpdatePluginInstallationInput', {
  fields: (t) => ({
    enabled: t.boolean({ description: 'true also resets consecutiveFailures.' }),
    config: t.field({ type: 'JSON' }),
    grantedScopes: t.stringList({
      description: 'Unset: the current grants the manifest still asks for.',
    }),
    manifest: t.field({
      type: 'JSON',
      description:
        'A new version of the same name and kind; scopes it asks for that the installed one ' +
        'did not must be granted (grantedScopes), else BAD_USER_INPUT.',
    }),
    secrets: t.field({ type: [PluginSecretInput], description: 'Set or replace these.' }),
  }),
});

const validateManifestField = {
  type: PluginManifestValidation,
  description: 'Every problem of a manifest, each at its path; nothing is stored.',
  authScopes: { read: true },
} as const;

builder.queryField('validatePluginManifest', (t) =>
  t.field({
    ...validateManifestField,
    args: { manifest: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, { manifest }, ctx) => validatePluginManifest(manifest, ctx),
  }),
);

// The same on Mutation, for a client that sends it in one document beside installPlugin.
builder.mutationField('validatePluginManifest', (t) =>
  t.field({
    ...validateManifestField,
    args: { manifest: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, { manifest }, ctx) => validatePluginManifest(manifest, ctx),
  }),
);

builder.queryField('plugins', (t) =>
  t.prismaField({
    type: [PluginInstallation],
    description: "A team's plugins (unset: the key's team), newest first.",
    authScopes: { read: true },
    args: { teamId: t.arg.id() },
    resolve: (query, _root, args, ctx) =>
      teamPlugins(optionalRowId('Team', args.teamId) ?? ctx.caller.teamId, ctx.caller, query),
  }),
);

builder.queryField('plugin', (t) =>
  t.prismaField({
    type: PluginInstallation,
    description: "One plugin; another team's is NOT_FOUND.",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const found = await readablePlugin(rowIdOrNone('PluginInstallation', id), ctx.caller);
      return db().pluginInstallation.findUniqueOrThrow({ ...query, where: { id: found.id } });
    },
  }),
);

builder.mutationField('installPlugin', (t) =>
  t.prismaField({
    type: PluginInstallation,
    description:
      'Installs a manifest in a team. Needs the ADMIN or OWNER role of the team and an ADMIN key.',
    authScopes: { read: true },
    args: { input: t.arg({ type: InstallPluginInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const installed = await installPlugin(
        { ...input, manifest: input.manifest, teamId: optionalRowId('Team', input.teamId) },
        ctx.caller,
        pluginDeps(ctx),
      );
      return db().pluginInstallation.findUniqueOrThrow({ ...query, where: { id: installed.id } });
    },
  }),
);

builder.mutationField('updatePluginInstallation', (t) =>
  t.prismaField({
    type: PluginInstallation,
    description: 'Changes what is given, checked as at installation.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdatePluginInstallationInput, required: true }),
    },
    resolve: async (query, _root, { id, input }, ctx) => {
      const rowId = rowIdOrNone('PluginInstallation', id);
      await updatePluginInstallation(rowId, input, ctx.caller, pluginDeps(ctx));
      return db().pluginInstallation.findUniqueOrThrow({ ...query, where: { id: rowId } });
    },
  }),
);

builder.mutationField('uninstallPlugin', (t) =>
  t.id({
    description: "Deletes the plugin, its secrets, and an INTEGRATION's endpoint; its id.",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await uninstallPlugin(rowIdOrNone('PluginInstallation', id), ctx.caller);
      return id;
    },
  }),
);

builder.mutationField('testPlugin', (t) =>
  t.field({
    type: PluginTestResult,
    description:
      'Sends an INTEGRATION a sample event of one of its granted types, at once, and answers ' +
      'what the receiver said. Not retried, not counted toward its failures.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }), eventType: t.arg.string({ required: true }) },
    resolve: (_root, { id, eventType }, ctx) =>
      testPlugin(rowIdOrNone('PluginInstallation', id), eventType, ctx.caller, pluginDeps(ctx)),
  }),
);

builder.mutationField('runPluginTool', (t) =>
  t.field({
    type: PluginToolResult,
    description:
      "Runs a TOOL's HTTP call with this input (checked against its schema: BAD_USER_INPUT at " +
      'the path). An answer over 256 KB or later than 10 s is UPSTREAM_FAILED naming which.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, { id, input }, ctx) =>
      runPluginTool(rowIdOrNone('PluginInstallation', id), input, ctx.caller, pluginDeps(ctx)),
  }),
);

// A team's plugin installations (docs/plugins.md) and what testing or running one answers.
import type { PluginManifest } from '../../services/plugins/manifest-types.js';
import { rowIdWhere } from '../../platform/ids.js';
import { pluginVisibleTo } from '../../services/auth/visibility.js';
import { builder } from '../builder.js';
import { WebhookEndpoint } from '../webhooks/types.js';

const manifestOf = (row: { manifest: unknown }) => row.manifest as PluginManifest;

export const PluginKind = builder.enumType('PluginKind', {
  values: {
    INTEGRATION: {
      description: 'Turns events into signed HTTPS POSTs through its webhook endpoint.',
    },
    TOOL: {
      description: 'One declared HTTP call, run by runPluginTool or a PLUGIN_TOOL workflow step.',
    },
    AGENT: {
      description: 'A prompt run through the LLM platform as a PLUGIN_AGENT workflow step.',
    },
  } as const,
});

export const PluginStatus = builder.enumType('PluginStatus', {
  values: {
    ACTIVE: { description: 'Receives events and runs.' },
    DISABLED: { description: 'Turned off by an administrator.' },
    DISABLED_AFTER_FAILURES: {
      description:
        '20 deliveries failed in a row; turned on again with updatePluginInstallation(enabled: true).',
    },
  } as const,
});

export const PluginInstallation = builder.prismaNode('PluginInstallation', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [pluginVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    kind: t.field({ type: PluginKind, resolve: (row) => row.kind }),
    description: t.string({ resolve: (row) => manifestOf(row).description }),
    enabled: t.boolean({
      description: 'Whether it runs now (status ACTIVE).',
      resolve: (row) => row.status === 'ACTIVE',
    }),
    status: t.field({ type: PluginStatus, resolve: (row) => row.status }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', {
      description:
        'Failed deliveries in a row (a success resets it); at 20 the plugin is disabled.',
    }),
    scopes: t.stringList({
      description: 'The scopes its manifest asks for.',
      resolve: (row) => manifestOf(row).scopes,
    }),
    grantedScopes: t.exposeStringList('grantedScopes'),
    events: t.stringList({
      description: "An INTEGRATION's event types (those granted are delivered).",
      resolve: (row) => manifestOf(row).events,
    }),
    config: t.expose('config', { type: 'JSON' }),
    manifest: t.expose('manifest', { type: 'JSON', description: 'As installed (normalised).' }),
    secretNames: t.stringList({
      description: 'The names of the secrets set; a value is never returned.',
      select: { secrets: { select: { name: true } } },
      resolve: (row) => row.secrets.map((secret) => secret.name).sort(),
    }),
    webhookEndpoint: t.relation('webhookEndpoint', {
      type: WebhookEndpoint,
      nullable: true,
      description: "An INTEGRATION's endpoint: its deliveries are listed there.",
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const PluginManifestError = builder
  .objectRef<{ path: string; message: string }>('PluginManifestError')
  .implement({
    fields: (t) => ({
      path: t.exposeString('path', {
        description: 'Dotted, in the manifest: request.url, events[0].',
      }),
      message: t.exposeString('message'),
    }),
  });

export const PluginManifestValidation = builder
  .objectRef<{ valid: boolean; errors: Array<{ path: string; message: string }> }>(
    'PluginManifestValidation',
  )
  .implement({
    fields: (t) => ({
      valid: t.exposeBoolean('valid'),
      errors: t.field({ type: [PluginManifestError], resolve: (result) => result.errors }),
    }),
  });

export const PluginCallFailure = builder.enumType('PluginCallFailure', {
  values: ['TIMEOUT', 'REPLY_TOO_LARGE', 'UNREACHABLE', 'REFUSED'] as const,
});

export const PluginTestResult = builder
  .objectRef<{
    ok: boolean;
    status: number | null;
    bodyExcerpt: string | null;
    latencyMs: number;
    retryAfterSeconds: number | null;
    error: string | null;
    failure: 'TIMEOUT' | 'REPLY_TOO_LARGE' | 'UNREACHABLE' | 'REFUSED' | null;
  }>('PluginTestResult')
  .implement({
    description: 'What the receiver said to a sample event.',
    fields: (t) => ({
      ok: t.exposeBoolean('ok', { description: 'It answered 2xx.' }),
      status: t.exposeInt('status', { nullable: true }),
      bodyExcerpt: t.exposeString('bodyExcerpt', {
        nullable: true,
        description: 'The first 1,000 characters of its answer.',
      }),
      latencyMs: t.exposeInt('latencyMs'),
      retryAfterSeconds: t.exposeInt('retryAfterSeconds', { nullable: true }),
      error: t.exposeString('error', { nullable: true }),
      failure: t.field({ type: PluginCallFailure, nullable: true, resolve: (r) => r.failure }),
    }),
  });

export const PluginToolResult = builder
  .objectRef<{
    output: unknown;
    status: number;
    latencyMs: number;
    retryAfterSeconds: number | null;
  }>('PluginToolResult')
  .implement({
    description: "What a TOOL's call answered (any status: 4xx and 5xx answers are results too).",
    fields: (t) => ({
      output: t.field({
        type: 'JSON',
        nullable: true,
        description: 'The answer: JSON when it parses, else its text.',
        resolve: (result) => result.output,
      }),
      status: t.exposeInt('status'),
      latencyMs: t.exposeInt('latencyMs'),
      retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
        nullable: true,
        description: 'Its Retry-After (a 429 or 503), in seconds.',
      }),
    }),
  });

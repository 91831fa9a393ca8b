// A team's plugins (docs/plugins.md): installed, changed, upgraded and uninstalled by those who
// administer the team, listed by its members. Another team's plugin is NOT_FOUND, never
// FORBIDDEN (no existence oracle). An INTEGRATION owns an endpoint of the webhook endpoints
// system, made and changed with it in one transaction.
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import { db, inTransaction } from '../../platform/db.js';
import { conflict, notFound } from '../../platform/errors.js';
import type { Keyring } from '../../platform/vault.js';
import type { Caller } from '../auth/caller.js';
import { canRead, requireAdminister } from '../auth/permissions.js';
import type { WebhookSettings } from '../webhooks/delivery.js';
import { newEndpointSecret, sealEndpointSecret } from '../webhooks/secrets.js';
import { auditPlugin } from './audit.js';
import {
  refuse,
  requireConfig,
  requireGrants,
  requireManifest,
  requireSecrets,
  requireSecretsSet,
} from './install-checks.js';
import { checkManifest } from './manifest.js';
import type { ManifestProblem, PluginManifest } from './manifest-types.js';
import { flatten, leadingVariable, renderUrl, secretVariables } from './render.js';
import type { Grants } from './scopes.js';
import { storeSecrets } from './secrets.js';
import { pluginTarget, PluginRefusal } from './target.js';

export interface PluginDeps {
  keyring: Keyring;
  /** Where plugins may connect (allowPrivateTargets, pluginOriginOverrides). */
  webhooks: WebhookSettings;
}

export interface SecretInput {
  name: string;
  value: string;
}

export interface InstallPluginInput {
  /** Unset: the key's team. */
  teamId?: string | null;
  manifest: unknown;
  grantedScopes: readonly string[];
  config?: unknown;
  secrets?: readonly SecretInput[] | null;
}

export interface UpdatePluginInput {
  enabled?: boolean | null;
  config?: unknown;
  grantedScopes?: readonly string[] | null;
  /** A new version (an upgrade, or a rollback) of the same plugin. */
  manifest?: unknown;
  /** Set or replace these secrets. */
  secrets?: readonly SecretInput[] | null;
}

export function validatePluginManifest(
  manifest: unknown,
  deps: Pick<PluginDeps, 'webhooks'>,
): { valid: boolean; errors: ManifestProblem[] } {
  const { errors } = checkManifest(manifest, { allowHttp: deps.webhooks.allowPrivateTargets });
  return { valid: errors.length === 0, errors };
}

/** A plugin the caller reads (any member of its team), or NOT_FOUND. */
export async function readablePlugin(id: string, caller: Caller) {
  const installation = await db().pluginInstallation.findUnique({ where: { id } });
  if (!installation || !canRead(caller, installation.teamId)) throw notFound('PluginInstallation');
  return installation;
}

/** A plugin the caller administers: NOT_FOUND outside its teams, FORBIDDEN to a member. */
export async function administeredPlugin(id: string, caller: Caller) {
  const installation = await readablePlugin(id, caller);
  requireAdminister(caller, installation.teamId, 'PluginInstallation');
  return installation;
}

/** A team's plugins, newest first; another team's: NOT_FOUND. */
export async function teamPlugins<Query extends object>(
  teamId: string,
  caller: Caller,
  query: Query = {} as Query,
) {
  if (!canRead(caller, teamId)) throw notFound('Team');
  return db().pluginInstallation.findMany({
    ...query,
    where: { teamId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
}

/**
 * A URL that starts with a secret or a config value: rendered with what is being installed,
 * and refused now (not at the first event) when its host is not granted.
 */
export async function checkLeadingUrl(
  manifest: PluginManifest,
  config: Record<string, unknown>,
  secrets: ReadonlyMap<string, string> | undefined,
  grants: Grants,
  deps: PluginDeps,
): Promise<void> {
  const url = manifest.request?.url;
  const leading = url && leadingVariable(url);
  if (!url || !leading) return;
  if (leading.startsWith('secrets.') && !secrets?.has(leading.slice(8))) return;
  const values = { ...flatten('config', config), ...secretVariables(secrets ?? new Map(), grants) };
  try {
    await pluginTarget(renderUrl(url, values), grants, deps.webhooks);
  } catch (error) {
    if (!(error instanceof PluginRefusal)) throw error;
    const argument = leading.startsWith('secrets.') ? 'secrets' : 'config';
    throw refuse(argument, 'manifest.request.url', `${leading}: ${error.message}`);
  }
}

export const endpointColumns = (manifest: PluginManifest, grants: Grants) => ({
  url: manifest.request!.url,
  eventTypes: manifest.events.filter((type) => grants.events.has(type)),
  description: `plugin ${manifest.name}@${manifest.version}`,
});

export async function installPlugin(input: InstallPluginInput, caller: Caller, deps: PluginDeps) {
  const teamId = input.teamId ?? caller.teamId;
  requireAdminister(caller, teamId);
  const { manifest, schemas } = requireManifest(input.manifest, deps.webhooks.allowPrivateTargets);
  const grants = requireGrants(manifest, input.grantedScopes);
  const config = requireConfig(schemas.config, input.config);
  const secrets = requireSecrets(input.secrets ?? [], grants);
  const given = new Map(secrets.map((secret) => [secret.name, secret.value]));
  requireSecretsSet(manifest, new Set(given.keys()));
  await checkLeadingUrl(manifest, config, given, grants, deps);
  const id = randomUUID();
  try {
    return await inTransaction(async ({ client }) => {
      const webhookEndpointId =
        manifest.kind === 'INTEGRATION'
          ? await createEndpoint(client, teamId, manifest, grants, deps)
          : null;
      const installation = await client.pluginInstallation.create({
        data: {
          id,
          teamId,
          name: manifest.name,
          version: manifest.version,
          kind: manifest.kind,
          manifest: manifest as unknown as Prisma.InputJsonValue,
          grantedScopes: [...new Set(input.grantedScopes)],
          config: config as Prisma.InputJsonValue,
          webhookEndpointId,
          createdById: caller.userId,
        },
      });
      await auditPlugin(
        client,
        installation,
        'INSTALL',
        caller,
        `${manifest.name}@${manifest.version}`,
      );
      const stored = await storeSecrets(client, deps.keyring, installation, secrets);
      for (const name of stored.set)
        await auditPlugin(client, installation, 'SECRET_SET', caller, name);
      return installation;
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002')
      throw conflict(
        `A plugin named ${manifest.name} is installed in this team: upgrade it with updatePluginInstallation`,
        { name: manifest.name },
      );
    throw error;
  }
}

export async function createEndpoint(
  client: Prisma.TransactionClient,
  teamId: string,
  manifest: PluginManifest,
  grants: Grants,
  deps: PluginDeps,
): Promise<string> {
  const endpointId = randomUUID();
  await client.webhookEndpoint.create({
    data: {
      id: endpointId,
      teamId,
      ...endpointColumns(manifest, grants),
      ...sealEndpointSecret(deps.keyring, teamId, endpointId, newEndpointSecret()),
    },
  });
  return endpointId;
}

/** Uninstalls the plugin: its secrets, and an INTEGRATION's endpoint with its messages. */
export async function uninstallPlugin(id: string, caller: Caller): Promise<string> {
  const installation = await administeredPlugin(id, caller);
  await inTransaction(async ({ client }) => {
    await auditPlugin(
      client,
      installation,
      'UNINSTALL',
      caller,
      `${installation.name}@${installation.version}`,
    );
    await client.pluginInstallation.delete({ where: { id } });
    if (installation.webhookEndpointId)
      await client.webhookEndpoint.deleteMany({ where: { id: installation.webhookEndpointId } });
  });
  return id;
}

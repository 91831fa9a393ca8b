// Changing an installed plugin: turning it on or off, its config, its grants, its secrets, or
// its manifest (a new version of the same name and kind). A new version that asks for scopes
// the installed one did not must have them granted in the same call; a config the new schema
// refuses must be replaced in it. One transaction changes the plugin, its endpoint, its
// secrets (those no longer granted are deleted) and the audit trail.
import type { Prisma } from '../../generated/prisma/client.js';
import type { PluginStatus } from '../../generated/prisma/enums.js';
import { inTransaction } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import { auditPlugin } from './audit.js';
import {
  refuse,
  requireConfig,
  requireGrants,
  requireManifest,
  requireSecrets,
  requireSecretsSet,
} from './install-checks.js';
import {
  administeredPlugin,
  checkLeadingUrl,
  createEndpoint,
  endpointColumns,
  type PluginDeps,
  type UpdatePluginInput,
} from './installations.js';
import type { PluginManifest } from './manifest-types.js';
import { manifestOf } from './requests.js';
import { openSecrets, storeSecrets } from './secrets.js';
import { compareSemver } from './semver.js';

type Installation = Awaited<ReturnType<typeof administeredPlugin>>;

function nextManifest(current: Installation, input: UpdatePluginInput, deps: PluginDeps) {
  const allowHttp = deps.webhooks.allowPrivateTargets;
  if (input.manifest == null) return requireManifest(current.manifest, true, 'manifest');
  const next = requireManifest(input.manifest, allowHttp);
  if (next.manifest.name !== current.name)
    throw refuse(
      'manifest',
      'manifest.name',
      `must stay ${current.name} (another name is another plugin)`,
    );
  if (next.manifest.kind !== current.kind)
    throw refuse('manifest', 'manifest.kind', `must stay ${current.kind}`);
  return next;
}

/** The scopes granted after the change: given, or the current ones the manifest still asks for. */
function nextGrants(current: Installation, manifest: PluginManifest, input: UpdatePluginInput) {
  const granted =
    input.grantedScopes != null
      ? [...new Set(input.grantedScopes)]
      : current.grantedScopes.filter((scope) => manifest.scopes.includes(scope));
  const before = manifestOf(current).scopes;
  const missing = manifest.scopes.filter(
    (scope) => !before.includes(scope) && !granted.includes(scope),
  );
  if (input.manifest != null && missing.length)
    throw refuse(
      'grantedScopes',
      'grantedScopes',
      `version ${manifest.version} asks for new scopes: grant ${missing.join(', ')}`,
      { newScopes: missing },
    );
  return granted;
}

function nextStatus(current: Installation, enabled: boolean | null | undefined): PluginStatus {
  if (enabled === true) return 'ACTIVE';
  if (enabled === false) return 'DISABLED';
  return current.status;
}

export async function updatePluginInstallation(
  id: string,
  input: UpdatePluginInput,
  caller: Caller,
  deps: PluginDeps,
) {
  const current = await administeredPlugin(id, caller);
  const { manifest, schemas } = nextManifest(current, input, deps);
  const granted = nextGrants(current, manifest, input);
  const grants = requireGrants(manifest, granted);
  const config = requireConfig(schemas.config, input.config ?? current.config);
  const given = requireSecrets(input.secrets ?? [], grants);
  const secrets = await openSecrets(deps.keyring, current, grants.secrets);
  for (const { name, value } of given) secrets.set(name, value);
  requireSecretsSet(manifest, new Set(secrets.keys()));
  await checkLeadingUrl(manifest, config, secrets, grants, deps);
  const status = nextStatus(current, input.enabled);
  const changed = [
    input.manifest != null &&
      `${compareSemver(manifest.version, current.version) < 0 ? 'rollback' : 'upgrade'} ` +
        `${current.version} → ${manifest.version}`,
    input.grantedScopes != null && 'grants',
    input.config != null && 'config',
    input.enabled != null && `status ${status}`,
  ].filter(Boolean);
  return inTransaction(async ({ client }) => {
    let webhookEndpointId = current.webhookEndpointId;
    if (manifest.kind === 'INTEGRATION' && !webhookEndpointId)
      webhookEndpointId = await createEndpoint(client, current.teamId, manifest, grants, deps);
    if (webhookEndpointId)
      await client.webhookEndpoint.update({
        where: { id: webhookEndpointId },
        data: { ...endpointColumns(manifest, grants), enabled: status === 'ACTIVE' },
      });
    const installation = await client.pluginInstallation.update({
      where: { id },
      data: {
        version: manifest.version,
        manifest: manifest as unknown as Prisma.InputJsonValue,
        grantedScopes: granted,
        config: config as Prisma.InputJsonValue,
        status,
        // Turned on again: the failures before do not count.
        ...(input.enabled === true && { consecutiveFailures: 0 }),
        webhookEndpointId,
      },
    });
    if (changed.length)
      await auditPlugin(client, installation, 'UPDATE', caller, changed.join(', '));
    const stored = await storeSecrets(client, deps.keyring, installation, given);
    for (const name of stored.set)
      await auditPlugin(client, installation, 'SECRET_SET', caller, name);
    for (const name of stored.replaced)
      await auditPlugin(client, installation, 'SECRET_REPLACE', caller, name);
    const dropped = await client.pluginSecret.findMany({
      where: { installationId: id, name: { notIn: [...grants.secrets] } },
      select: { name: true },
    });
    await client.pluginSecret.deleteMany({
      where: { installationId: id, name: { in: dropped.map((row) => row.name) } },
    });
    for (const { name } of dropped)
      await auditPlugin(
        client,
        installation,
        'SECRET_DELETE',
        caller,
        `${name} (no longer granted)`,
      );
    return installation;
  });
}

// The request a plugin's manifest declares, rendered for one event (an INTEGRATION) or one
// input (a TOOL) from only what the installation was granted, and its target checked
// (target.ts). Secrets are opened here, used for this request, and not kept.
import { db } from '../../platform/db.js';
import type { Keyring } from '../../platform/vault.js';
import { parseVariables } from '../templates/variables.js';
import type { PluginNetwork, PluginRequest } from './http-call.js';
import { templatesOf } from './manifest-templates.js';
import type { PluginManifest } from './manifest-types.js';
import {
  eventVariables,
  flatten,
  renderHeader,
  renderJsonBody,
  renderUrl,
  secretVariables,
  type EventToRender,
  type Variables,
} from './render.js';
import { grantsOf, type Grants } from './scopes.js';
import { openSecrets } from './secrets.js';
import { pluginTarget } from './target.js';

export interface InstalledPlugin {
  id: string;
  teamId: string;
  manifest: unknown;
  config: unknown;
  grantedScopes: string[];
}

export interface RequestDeps {
  keyring: Keyring;
  network: PluginNetwork;
}

export const manifestOf = (installation: Pick<InstalledPlugin, 'manifest'>) =>
  installation.manifest as PluginManifest;

/** Whether any template of the manifest uses a variable starting with `prefix`. */
const uses = (manifest: PluginManifest, prefix: string) =>
  templatesOf(manifest).some(({ text }) =>
    parseVariables(text).some((variable) => variable.startsWith(prefix)),
  );

const topicRowId = (publicId: unknown): string | undefined => {
  if (typeof publicId !== 'string') return undefined;
  const [type, id] = Buffer.from(publicId, 'base64').toString().split(':');
  return type === 'Topic' ? id : undefined;
};

/** A report event's topic (`event.topic.*`), of the plugin's own team, read only when used. */
async function withTopic(
  event: EventToRender,
  installation: InstalledPlugin,
  grants: Grants,
): Promise<EventToRender> {
  const manifest = manifestOf(installation);
  const id = topicRowId(event.data.topicId);
  if (!event.type.startsWith('report.') || !id || !uses(manifest, 'event.topic.')) return event;
  const markdown = grants.topicMarkdown && uses(manifest, 'event.topic.markdown');
  const topic = await db().topic.findFirst({
    where: { id, teamId: installation.teamId },
    select: {
      topic: true,
      artifacts: markdown
        ? { select: { markdown: true }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1 }
        : false,
    },
  });
  if (!topic) return event;
  return {
    ...event,
    data: {
      ...event.data,
      topic: {
        id: event.data.topicId,
        title: topic.topic,
        ...(markdown && { markdown: topic.artifacts?.[0]?.markdown ?? '' }),
      },
    },
  };
}

async function render(
  installation: InstalledPlugin,
  values: Variables,
  grants: Grants,
  network: PluginNetwork,
  defaultBody: unknown,
): Promise<PluginRequest> {
  const request = manifestOf(installation).request!;
  const url = await pluginTarget(renderUrl(request.url, values), grants, network);
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, renderHeader(value, values)]),
  );
  const body =
    request.body !== null
      ? renderJsonBody(request.body, values)
      : defaultBody === undefined
        ? null
        : JSON.stringify(defaultBody);
  return { method: request.method, url, headers, body };
}

async function commonValues(installation: InstalledPlugin, grants: Grants, deps: RequestDeps) {
  const secrets = await openSecrets(deps.keyring, installation, grants.secrets);
  return { ...flatten('config', installation.config ?? {}), ...secretVariables(secrets, grants) };
}

/** An INTEGRATION's POST for one event; without a body template, the event's own body. */
export async function integrationRequest(
  installation: InstalledPlugin,
  event: EventToRender,
  deps: RequestDeps,
): Promise<PluginRequest> {
  const grants = grantsOf(installation.grantedScopes);
  const rendered = await withTopic(event, installation, grants);
  const values = {
    ...(await commonValues(installation, grants, deps)),
    ...eventVariables(rendered, grants),
  };
  return render(installation, values, grants, deps.network, event);
}

/** A TOOL's call with this input; a POST, PUT or PATCH without a body template sends the input. */
export async function toolRequest(
  installation: InstalledPlugin,
  input: Record<string, unknown>,
  deps: RequestDeps,
): Promise<PluginRequest> {
  const grants = grantsOf(installation.grantedScopes);
  const values = {
    ...(await commonValues(installation, grants, deps)),
    ...flatten('input', input),
  };
  const method = manifestOf(installation).request!.method;
  return render(
    installation,
    values,
    grants,
    deps.network,
    method === 'GET' || method === 'DELETE' ? undefined : input,
  );
}

/** The URL as receivers' records show it: the manifest's template, never a rendered secret. */
export const shownUrl = (installation: Pick<InstalledPlugin, 'manifest'>) =>
  manifestOf(installation).request?.url ?? '';

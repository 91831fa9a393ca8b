// The manifest's templates against what it asks for: every `{{variable}}` of a request or a
// prompt names something the kind may use (an INTEGRATION: event.*, config.*, secrets.*; a
// TOOL: input.*, config.*, secrets.*; an AGENT's prompt: input.*, config.*), each secret and
// the topic's Markdown under its own scope, and the request's URL a host of a network scope.
import { parseVariables } from '../templates/variables.js';
import { eventHasField, TOPIC_MARKDOWN } from './event-fields.js';
import type { ManifestProblem, ManifestRules, PluginManifest } from './manifest-types.js';
import { leadingVariable } from './render.js';
import { grantsOf, hostGranted } from './scopes.js';

const ROOTS: Record<PluginManifest['kind'], readonly string[]> = {
  INTEGRATION: ['event', 'config', 'secrets'],
  TOOL: ['input', 'config', 'secrets'],
  AGENT: ['input', 'config'],
};

/** Every template of the manifest with its path. */
export function templatesOf(manifest: PluginManifest): Array<{ path: string; text: string }> {
  const found: Array<{ path: string; text: string }> = [];
  if (manifest.prompt) found.push({ path: 'prompt', text: manifest.prompt });
  const request = manifest.request;
  if (!request) return found;
  found.push({ path: 'request.url', text: request.url });
  for (const [name, value] of Object.entries(request.headers))
    found.push({ path: `request.headers.${name}`, text: value });
  const walk = (value: unknown) => {
    if (typeof value === 'string') found.push({ path: 'request.body', text: value });
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(request.body);
  return found;
}

/** The top-level properties a schema declares, or undefined when it does not list them. */
const declared = (schema: Record<string, unknown> | null) => {
  const properties = schema?.properties;
  return typeof properties === 'object' && properties !== null
    ? Object.keys(properties)
    : undefined;
};

function variableProblem(variable: string, manifest: PluginManifest): string | undefined {
  const dot = variable.indexOf('.');
  const root = dot < 0 ? variable : variable.slice(0, dot);
  const rest = dot < 0 ? '' : variable.slice(dot + 1);
  const roots = ROOTS[manifest.kind];
  if (!roots.includes(root) || !rest)
    return `{{${variable}}}: a ${manifest.kind} may use ${roots.map((r) => `${r}.*`).join(', ')}`;
  const grants = grantsOf(manifest.scopes);
  if (root === 'secrets' && !grants.secrets.has(rest))
    return `{{${variable}}} needs the scope secrets:${rest}`;
  if (root === 'event') {
    if (!eventHasField(manifest.events, rest))
      return `{{${variable}}}: no event of ${manifest.events.join(', ')} has ${rest}`;
    if (rest === TOPIC_MARKDOWN && !grants.topicMarkdown)
      return `{{${variable}}} needs the scope data:topic.markdown`;
  }
  if (root === 'config' || root === 'input') {
    const properties = declared(root === 'config' ? manifest.config : manifest.input);
    const property = rest.split('.')[0]!;
    if (properties && !properties.includes(property))
      return `{{${variable}}}: the ${root} schema has no property ${property}`;
  }
  return undefined;
}

function urlProblem(manifest: PluginManifest, rules: ManifestRules): string | undefined {
  const template = manifest.request!.url;
  const leading = leadingVariable(template);
  if (leading !== undefined) {
    // The host comes from a value known at install (checked then, and at every request).
    if (!/^(secrets|config)\./.test(leading))
      return 'a URL that starts with a placeholder takes it from secrets.* or config.*';
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(template.replace(/\{\{[^}]*\}\}/g, 'x'));
  } catch {
    return 'is not a URL';
  }
  const authority = template.slice(template.indexOf('//') + 2).split(/[/?#]/)[0]!;
  if (authority.includes('{{'))
    return 'the host must be written out, or the whole URL come from secrets.* or config.*';
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:'))
    return rules.allowHttp ? 'must be http(s)' : 'must use https';
  if (url.username || url.password) return 'must not carry credentials (use a secret in a header)';
  if (!hostGranted(url, grantsOf(manifest.scopes)))
    return `its host ${url.host} is not in the manifest's network scopes`;
  return undefined;
}

export function checkTemplates(
  manifest: PluginManifest,
  rules: ManifestRules,
  problems: ManifestProblem[],
): void {
  if (manifest.request) {
    const problem = urlProblem(manifest, rules);
    if (problem) problems.push({ path: 'request.url', message: problem });
  }
  for (const { path, text } of templatesOf(manifest))
    for (const variable of parseVariables(text)) {
      const problem = variableProblem(variable, manifest);
      if (problem) problems.push({ path, message: problem });
    }
}

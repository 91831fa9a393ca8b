// A plugin's manifest (docs/plugins.md#manifest): its shape, and every rule a manifest must
// keep before it is installed, as a list of problems, each at its dotted path in the manifest
// (`request.url`, `events[0]`), in the order the fields are read.
import { compileSchema, isProblem, type CompiledSchema } from './json-schema.js';
import { checkTemplates } from './manifest-templates.js';
import {
  LLM_SERVICES,
  PLUGIN_KINDS,
  type ManifestProblem,
  type ManifestRules,
  type PluginKind,
  type PluginManifest,
  type PluginRequestSpec,
} from './manifest-types.js';
import { parseScope } from './scopes.js';
import { isSemver } from './semver.js';

const TOOL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const FIELDS = [
  'name',
  'version',
  'kind',
  'description',
  'events',
  'scopes',
  'config',
  'input',
  'request',
  'prompt',
  'service',
];
const REQUEST_FIELDS = ['method', 'url', 'headers', 'body'];
// Set by the service itself (framing, signatures, where it goes).
const RESERVED_HEADERS =
  /^(host|content-length|content-type|transfer-encoding|connection|user-agent|webhook-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

export interface ManifestCheck {
  /** Set when there is no problem. */
  manifest?: PluginManifest;
  errors: ManifestProblem[];
  /** The compiled schemas, when the manifest is valid. */
  schemas?: { config: CompiledSchema; input: CompiledSchema | null };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const DEFAULT_CONFIG_SCHEMA = { type: 'object', properties: {}, additionalProperties: false };

function checkSchema(
  schema: unknown,
  path: string,
  problems: ManifestProblem[],
): CompiledSchema | undefined {
  if (!isObject(schema)) {
    problems.push({ path, message: 'must be a JSON Schema object' });
    return undefined;
  }
  if (schema.type !== undefined && schema.type !== 'object') {
    problems.push({ path: `${path}.type`, message: 'must be "object"' });
    return undefined;
  }
  const compiled = compileSchema(schema);
  if (isProblem(compiled)) {
    problems.push({
      path: compiled.path ? `${path}.${compiled.path}` : path,
      message: compiled.message,
    });
    return undefined;
  }
  return compiled;
}

function checkRequest(
  raw: unknown,
  kind: PluginKind,
  problems: ManifestProblem[],
): PluginRequestSpec | undefined {
  if (!isObject(raw)) {
    problems.push({ path: 'request', message: `an ${kind} declares its request (method, url)` });
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (!REQUEST_FIELDS.includes(key))
      problems.push({ path: `request.${key}`, message: 'is not a request field' });
  const method = raw.method === undefined ? 'POST' : raw.method;
  if (kind === 'INTEGRATION' && method !== 'POST')
    problems.push({ path: 'request.method', message: 'an INTEGRATION sends POST' });
  if (kind === 'TOOL' && !TOOL_METHODS.includes(method as string))
    problems.push({ path: 'request.method', message: `must be one of ${TOOL_METHODS.join(', ')}` });
  if (typeof raw.url !== 'string' || raw.url.length === 0 || raw.url.length > 2_000)
    problems.push({
      path: 'request.url',
      message: 'must be a URL template of at most 2000 characters',
    });
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined) {
    if (!isObject(raw.headers))
      problems.push({ path: 'request.headers', message: 'must map header names to templates' });
    else
      for (const [name, value] of Object.entries(raw.headers)) {
        if (!HEADER_NAME.test(name) || RESERVED_HEADERS.test(name))
          problems.push({
            path: `request.headers.${name}`,
            message: 'is not a header a plugin may set',
          });
        else if (typeof value !== 'string' || value.length > 2_000)
          problems.push({
            path: `request.headers.${name}`,
            message: 'must be a template of at most 2000 characters',
          });
        else headers[name] = value;
      }
  }
  let body: unknown = raw.body ?? null;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      problems.push({
        path: 'request.body',
        message: 'must be JSON (its strings may hold {{placeholders}})',
      });
    }
  }
  if (body !== null && method === 'GET')
    problems.push({ path: 'request.body', message: 'a GET request has no body' });
  return { method: method as string, url: raw.url as string, headers, body };
}

function checkKindFields(
  raw: Record<string, unknown>,
  kind: PluginKind,
  problems: ManifestProblem[],
) {
  const absent = (field: string, why: string) => {
    if (raw[field] != null) problems.push({ path: field, message: why });
  };
  if (kind !== 'INTEGRATION' && Array.isArray(raw.events) && raw.events.length > 0)
    problems.push({ path: 'events', message: 'only an INTEGRATION receives events' });
  if (kind === 'INTEGRATION') absent('input', 'an INTEGRATION takes events, not input');
  if (kind !== 'AGENT') {
    absent('prompt', 'only an AGENT has a prompt');
    absent('service', 'only an AGENT names an LLM service');
  }
  if (kind === 'AGENT') absent('request', 'an AGENT calls the LLM platform, not a URL');
}

function checkEvents(
  raw: unknown,
  scopes: readonly string[],
  problems: ManifestProblem[],
): string[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ path: 'events', message: 'an INTEGRATION names at least one event type' });
    return [];
  }
  const events: string[] = [];
  raw.forEach((type, index) => {
    const parsed = parseScope(`events:${String(type)}`);
    if (typeof type !== 'string' || 'problem' in parsed)
      problems.push({
        path: `events[${index}]`,
        message: 'problem' in parsed ? parsed.problem : 'must be an event type',
      });
    else if (!scopes.includes(`events:${type}`))
      problems.push({ path: `events[${index}]`, message: `needs the scope events:${type}` });
    else if (!events.includes(type)) events.push(type);
  });
  return events;
}

function checkScopes(raw: unknown, problems: ManifestProblem[]): string[] {
  if (!Array.isArray(raw)) {
    problems.push({ path: 'scopes', message: 'must be a list of scopes' });
    return [];
  }
  if (raw.length > 50) problems.push({ path: 'scopes', message: 'at most 50 scopes' });
  const scopes: string[] = [];
  raw.forEach((scope, index) => {
    const parsed = parseScope(scope);
    if ('problem' in parsed) problems.push({ path: `scopes[${index}]`, message: parsed.problem });
    else if (!scopes.includes(scope as string)) scopes.push(scope as string);
  });
  return scopes;
}

/** The manifest, checked: every problem, or the manifest as it is stored. */
export function checkManifest(raw: unknown, rules: ManifestRules): ManifestCheck {
  const problems: ManifestProblem[] = [];
  if (!isObject(raw)) return { errors: [{ path: '', message: 'a manifest is a JSON object' }] };
  for (const key of Object.keys(raw))
    if (!FIELDS.includes(key)) problems.push({ path: key, message: 'is not a manifest field' });
  if (typeof raw.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(raw.name))
    problems.push({
      path: 'name',
      message: 'must be lower case letters, digits, ".", "_" or "-" (at most 64)',
    });
  if (!isSemver(raw.version))
    problems.push({ path: 'version', message: 'must be a semantic version (1.0.0)' });
  const kind = raw.kind as PluginKind;
  if (!PLUGIN_KINDS.includes(kind)) {
    problems.push({ path: 'kind', message: `must be one of ${PLUGIN_KINDS.join(', ')}` });
    return { errors: problems };
  }
  if (
    raw.description !== undefined &&
    (typeof raw.description !== 'string' || raw.description.length > 500)
  )
    problems.push({ path: 'description', message: 'must be text of at most 500 characters' });
  const scopes = checkScopes(raw.scopes, problems);
  checkKindFields(raw, kind, problems);
  const events = kind === 'INTEGRATION' ? checkEvents(raw.events, scopes, problems) : [];
  const config = checkSchema(raw.config ?? DEFAULT_CONFIG_SCHEMA, 'config', problems);
  let input: CompiledSchema | undefined;
  if (kind !== 'INTEGRATION')
    input =
      raw.input === undefined
        ? void problems.push({
            path: 'input',
            message: `a ${kind} declares the JSON Schema of its input`,
          })
        : checkSchema(raw.input, 'input', problems);
  const request = kind === 'AGENT' ? null : (checkRequest(raw.request, kind, problems) ?? null);
  if (kind === 'AGENT') {
    if (typeof raw.prompt !== 'string' || raw.prompt.trim() === '' || raw.prompt.length > 20_000)
      problems.push({ path: 'prompt', message: 'must be a template of at most 20000 characters' });
    if (!LLM_SERVICES.includes(raw.service as never))
      problems.push({ path: 'service', message: `must be one of ${LLM_SERVICES.join(', ')}` });
    if (!scopes.includes('llm:write'))
      problems.push({ path: 'scopes', message: 'an AGENT needs the scope llm:write' });
  }
  const manifest: PluginManifest = {
    name: raw.name as string,
    version: raw.version as string,
    kind,
    description: (raw.description as string | undefined) ?? '',
    events,
    scopes,
    config: (raw.config as Record<string, unknown> | undefined) ?? DEFAULT_CONFIG_SCHEMA,
    input: kind === 'INTEGRATION' ? null : (raw.input as Record<string, unknown>),
    request,
    prompt: kind === 'AGENT' ? (raw.prompt as string) : null,
    service: kind === 'AGENT' ? (raw.service as PluginManifest['service']) : null,
  };
  if (problems.length === 0) checkTemplates(manifest, rules, problems);
  if (problems.length || !config) return { errors: problems };
  return { manifest, errors: [], schemas: { config, input: input ?? null } };
}

// What an installation adds to its manifest, checked before anything is stored: the scopes
// granted (only ones the manifest asks for, and every one its requests cannot work without),
// the config against the manifest's schema, and the secrets (granted names, each one the
// requests use set). Each refusal is BAD_USER_INPUT naming the argument and the path.
import { BadInputError } from '../../platform/errors.js';
import { parseVariables } from '../templates/variables.js';
import { valueProblems, type CompiledSchema } from './json-schema.js';
import { templatesOf } from './manifest-templates.js';
import type { PluginManifest } from './manifest-types.js';
import { checkManifest, type ManifestCheck } from './manifest.js';
import { leadingVariable } from './render.js';
import { grantsOf, hostGranted, SECRET_NAME, type Grants } from './scopes.js';

export const MAX_SECRET_BYTES = 4_096;

export function refuse(argument: string, path: string, message: string, extra = {}): BadInputError {
  return new BadInputError(`${path}: ${message}`, { path, ...extra }, argument);
}

/**
 * The manifest, or BAD_USER_INPUT at its first problem's path, with every problem in
 * `problems` as `path: message` (plain strings: an error's extensions hold no nested messages).
 */
export function requireManifest(
  raw: unknown,
  allowHttp: boolean,
  argument = 'manifest',
): Required<Pick<ManifestCheck, 'manifest' | 'schemas'>> {
  const checked = checkManifest(raw, { allowHttp });
  const first = checked.errors[0];
  if (first || !checked.manifest || !checked.schemas)
    throw refuse(
      argument,
      first?.path ? `${argument}.${first.path}` : argument,
      first?.message ?? 'is not valid',
      {
        problems: checked.errors.map(({ path, message }) =>
          path ? `${path}: ${message}` : message,
        ),
      },
    );
  return { manifest: checked.manifest, schemas: checked.schemas };
}

/** The secret names the manifest's templates use, with where. */
export function secretsUsed(manifest: PluginManifest): Map<string, string> {
  const used = new Map<string, string>();
  for (const { path, text } of templatesOf(manifest))
    for (const variable of parseVariables(text))
      if (variable.startsWith('secrets.') && !used.has(variable.slice(8)))
        used.set(variable.slice(8), path);
  return used;
}

/** The grants, or BAD_USER_INPUT: a scope not asked for, or one the plugin cannot work without. */
export function requireGrants(manifest: PluginManifest, granted: readonly string[]): Grants {
  granted.forEach((scope, index) => {
    if (!manifest.scopes.includes(scope))
      throw refuse(
        'grantedScopes',
        `grantedScopes[${index}]`,
        `${scope} is not a scope the manifest asks for`,
      );
  });
  const grants = grantsOf(granted);
  if (manifest.kind === 'INTEGRATION' && !manifest.events.some((type) => grants.events.has(type)))
    throw refuse(
      'grantedScopes',
      'grantedScopes',
      'grant at least one of the events:<type> scopes the plugin asks for',
    );
  if (manifest.kind === 'AGENT' && !grants.llmWrite)
    throw refuse('grantedScopes', 'grantedScopes', 'an AGENT needs llm:write granted');
  for (const [name, path] of secretsUsed(manifest))
    if (!grants.secrets.has(name))
      throw refuse(
        'grantedScopes',
        'grantedScopes',
        `${path} uses secrets.${name}: grant secrets:${name}`,
      );
  const url = manifest.request?.url;
  if (url && leadingVariable(url) === undefined) {
    const parsed = new URL(url.replace(/\{\{[^}]*\}\}/g, 'x'));
    if (!hostGranted(parsed, grants))
      throw refuse(
        'grantedScopes',
        'grantedScopes',
        `request.url's host ${parsed.host} needs its network scope granted`,
      );
  }
  return grants;
}

/** The config (an object), or BAD_USER_INPUT at the path of its first problem. */
export function requireConfig(schema: CompiledSchema, config: unknown): Record<string, unknown> {
  const value = config ?? {};
  const first = valueProblems(schema, value)[0];
  if (first) throw refuse('config', first.path ? `config.${first.path}` : 'config', first.message);
  return value as Record<string, unknown>;
}

/** The secrets to store: granted names, at most once each, bounded. */
export function requireSecrets(
  secrets: ReadonlyArray<{ name: string; value: string }>,
  grants: Grants,
): Array<{ name: string; value: string }> {
  const seen = new Set<string>();
  secrets.forEach(({ name, value }, index) => {
    const path = `secrets[${index}]`;
    if (!SECRET_NAME.test(name) || !grants.secrets.has(name))
      throw refuse('secrets', `${path}.name`, `${name} is not a granted secrets:<NAME> scope`);
    if (seen.has(name)) throw refuse('secrets', `${path}.name`, `${name} is given twice`);
    if (value.length === 0 || Buffer.byteLength(value) > MAX_SECRET_BYTES)
      throw refuse('secrets', `${path}.value`, `must be 1 to ${MAX_SECRET_BYTES} bytes`);
    seen.add(name);
  });
  return [...secrets];
}

/** Every secret the requests use is set (given now, or kept from before). */
export function requireSecretsSet(manifest: PluginManifest, names: ReadonlySet<string>): void {
  for (const [name, path] of secretsUsed(manifest))
    if (!names.has(name))
      throw refuse('secrets', 'secrets', `${name} is needed by ${path}: set it`);
}

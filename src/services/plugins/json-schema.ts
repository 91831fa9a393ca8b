// A manifest's JSON Schemas (its `config` and `input`), checked with zod's converter from JSON
// Schema (`z.fromJSONSchema`, zod 4): zod is already a production dependency, where the `ajv`
// in node_modules is only a development tool's. `pattern` and `patternProperties` are refused:
// a tenant's regular expression would run in our process, and one that backtracks can stall it.
import { z } from 'zod';

export interface SchemaProblem {
  /** Dotted, from the schema's root (`properties.channel.type`). */
  path: string;
  message: string;
}

/** Keywords whose value is a schema, a list of schemas or a map of them. */
const ONE = [
  'additionalProperties',
  'items',
  'not',
  'contains',
  'propertyNames',
  'additionalItems',
];
const LIST = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'];
const MAP = ['properties', '$defs', 'definitions', 'dependentSchemas'];
const REFUSED = ['pattern', 'patternProperties'];

const join = (base: string, key: string | number) =>
  typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function refusedKeyword(schema: unknown, path: string): SchemaProblem | undefined {
  if (!isObject(schema)) return undefined;
  for (const keyword of REFUSED)
    if (keyword in schema)
      return {
        path: join(path, keyword),
        message: `${keyword} is not supported (a regular expression would run in the service)`,
      };
  for (const keyword of ONE) {
    const found = isObject(schema[keyword])
      ? refusedKeyword(schema[keyword], join(path, keyword))
      : undefined;
    if (found) return found;
  }
  for (const keyword of LIST) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [index, each] of list.entries()) {
      const found = refusedKeyword(each, join(join(path, keyword), index));
      if (found) return found;
    }
  }
  for (const keyword of MAP) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [name, each] of Object.entries(map)) {
      const found = refusedKeyword(each, join(join(path, keyword), name));
      if (found) return found;
    }
  }
  return undefined;
}

export type CompiledSchema = z.ZodType;

/** The schema, ready to check values; or the first problem with it. */
export function compileSchema(schema: unknown): CompiledSchema | SchemaProblem {
  if (!isObject(schema)) return { path: '', message: 'must be a JSON Schema object' };
  const refused = refusedKeyword(schema, '');
  if (refused) return refused;
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    return { path: '', message: `is not a JSON Schema zod can check: ${(error as Error).message}` };
  }
}

export const isProblem = (value: CompiledSchema | SchemaProblem): value is SchemaProblem =>
  'message' in value && 'path' in value && !(value instanceof z.ZodType);

/** The value's problems against the schema, each at its dotted path within the value. */
export function valueProblems(schema: CompiledSchema, value: unknown): SchemaProblem[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const base = issue.path.reduce<string>(
      (path, key) => join(path, typeof key === 'symbol' ? String(key) : key),
      '',
    );
    // An unknown key's issue sits on its object: name the key itself.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    return {
      path: keys.length ? join(base, keys[0]!) : base,
      message: issue.message,
    };
  });
}

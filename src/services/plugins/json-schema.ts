// A manifest's JSON Schemas (its `config` and `input`), checked with zod's converter from JSON
// Schema (`z.fromJSONSchema`, zod 4): zod is already a production dependency, where the `ajv`
// in node_modules is only a development tool's. `pattern` and `patternProperties` are refused:
// a tenant's regular expression would run in our process, and one that backtracks can stall it.
// So are `$ref`s that form a cycle (recursiveRef).
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

/** Each schema directly inside `schema` (under ONE, LIST and MAP keywords), with its path. */
function* subschemas(
  schema: Record<string, unknown>,
  path: string,
): Generator<[Record<string, unknown>, string]> {
  for (const keyword of ONE) {
    const each = schema[keyword];
    if (isObject(each)) yield [each, join(path, keyword)];
  }
  for (const keyword of LIST) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [index, each] of list.entries())
      if (isObject(each)) yield [each, join(join(path, keyword), index)];
  }
  for (const keyword of MAP) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [name, each] of Object.entries(map))
      if (isObject(each)) yield [each, join(join(path, keyword), name)];
  }
}

function refusedKeyword(schema: Record<string, unknown>, path: string): SchemaProblem | undefined {
  for (const keyword of REFUSED)
    if (keyword in schema)
      return {
        path: join(path, keyword),
        message: `${keyword} is not supported (a regular expression would run in the service)`,
      };
  for (const [each, at] of subschemas(schema, path)) {
    const found = refusedKeyword(each, at);
    if (found) return found;
  }
  return undefined;
}

/** A local `$ref`'s target and its path ('#', '#/$defs/a'); undefined: not a local pointer. */
function pointed(root: Record<string, unknown>, ref: string) {
  if (ref === '#') return { schema: root, path: '' };
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  let path = '';
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[key];
    path = join(path, key);
  }
  return isObject(node) ? { schema: node, path } : undefined;
}

/**
 * The `$ref` that closes a cycle (a schema that refers to itself, or schemas that refer to each
 * other): zod's converter accepts one, and checking a value against it overflowed the stack.
 * Each target is walked once (depth-first, a target still open is a cycle).
 */
function recursiveRef(root: Record<string, unknown>): SchemaProblem | undefined {
  const walked = new Map<string, 'open' | 'done'>();
  const visit = (schema: Record<string, unknown>, path: string): SchemaProblem | undefined => {
    const ref = schema.$ref;
    if (typeof ref === 'string') {
      if (walked.get(ref) === 'open')
        return {
          path: join(path, '$ref'),
          message: `refers back to ${ref}, which it is part of: recursive schemas are not supported`,
        };
      const target = walked.has(ref) ? undefined : pointed(root, ref);
      if (target) {
        walked.set(ref, 'open');
        const found = visit(target.schema, target.path);
        if (found) return found;
        walked.set(ref, 'done');
      }
    }
    for (const [each, at] of subschemas(schema, path)) {
      const found = visit(each, at);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root, '');
}

export type CompiledSchema = z.ZodType;

/** The schema, ready to check values; or the first problem with it. */
export function compileSchema(schema: unknown): CompiledSchema | SchemaProblem {
  if (!isObject(schema)) return { path: '', message: 'must be a JSON Schema object' };
  const refused = refusedKeyword(schema, '') ?? recursiveRef(schema);
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

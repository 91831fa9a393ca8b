// The published schema keeps the contract's names and shapes (../shared/contract.graphql):
// every contract type and field we publish has the contract's type, and every argument
// the contract names exists with its type.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isEnumType,
  isUnionType,
  type GraphQLNamedType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';

const contractPath = path.resolve(import.meta.dirname, '../../../shared/contract.graphql');
const hasContract = existsSync(contractPath);

function shape(type: GraphQLNamedType): Record<string, string> {
  if (isObjectType(type) || isInterfaceType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields()).flatMap((field) => [
        [field.name, String(field.type)],
        ...field.args.map((arg) => [`${field.name}(${arg.name})`, String(arg.type)]),
      ]),
    );
  }
  if (isInputObjectType(type))
    return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, String(f.type)]));
  if (isEnumType(type)) return Object.fromEntries(type.getValues().map((v) => [v.name, 'value']));
  if (isUnionType(type)) return Object.fromEntries(type.getTypes().map((t) => [t.name, 'member']));
  return {};
}

describe.skipIf(!hasContract)('contract', () => {
  const contract = hasContract ? buildSchema(readFileSync(contractPath, 'utf8')) : undefined;

  it('publishes every contract type it has with the contract shape', () => {
    const mismatches: string[] = [];
    for (const type of Object.values(contract!.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const ours = schema.getType(type.name);
      if (!ours) continue; // not built yet: absent rather than faked
      const expected = shape(type);
      const actual = shape(ours);
      for (const [member, signature] of Object.entries(expected)) {
        if (actual[member] === undefined) continue;
        if (actual[member] !== signature)
          mismatches.push(`${type.name}.${member}: ${actual[member]} (contract: ${signature})`);
      }
      if (isObjectType(type) && isObjectType(ours)) {
        const interfaces = type.getInterfaces().map((i) => i.name);
        for (const name of interfaces)
          if (!ours.getInterfaces().some((i) => i.name === name))
            mismatches.push(`${type.name} implements ${name}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('a type we publish has every field the contract gives it', () => {
    const missing: string[] = [];
    for (const type of Object.values(contract!.getTypeMap())) {
      if (type.name.startsWith('__') || ['Query', 'Mutation', 'Subscription'].includes(type.name))
        continue;
      const ours = schema.getType(type.name);
      if (!ours) continue;
      const actual = shape(ours);
      for (const member of Object.keys(shape(type)))
        if (actual[member] === undefined) missing.push(`${type.name}.${member}`);
    }
    expect(missing).toEqual([]);
  });
});

// Documents generated from the schema: for a root field, a selection of every field below it
// (to a depth), with made-up values for the required arguments of nested fields. The tests
// that run every query and subscription field use these.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/** A literal for an input type (required fields filled, optional ones left out). */
export function literalFor(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literalFor(type.ofType);
  if (isListType(type)) return `[${literalFor(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter(
      (field) => isNonNullType(field.type) && field.defaultValue === undefined,
    );
    return `{ ${fields.map((field) => `${field.name}: ${literalFor(field.type)}`).join(', ')} }`;
  }
  switch (type.name) {
    case 'Int':
    case 'Float':
      return '1';
    case 'Boolean':
      return 'true';
    case 'JSON':
      return '{}';
    case 'DateTime':
      return '"2026-01-01T00:00:00Z"';
    default:
      return '"x"';
  }
}

function nestedArguments(args: readonly GraphQLArgument[]): string {
  const required = args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
  return required.length
    ? `(${required.map((arg) => `${arg.name}: ${literalFor(arg.type)}`).join(', ')})`
    : '';
}

function fieldSelection(field: GraphQLField<unknown, unknown>, depth: number): string | undefined {
  const below = selectionSet(field.type, depth - 1);
  if (below === undefined) return undefined;
  return `${field.name}${nestedArguments(field.args)}${below}`;
}

/** The selection set for a type ('' for a leaf), or undefined when it is too deep to select anything. */
export function selectionSet(type: GraphQLOutputType, depth: number): string | undefined {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (depth <= 0) return undefined;
  if (isUnionType(named)) {
    const members = named
      .getTypes()
      .map((member) => `... on ${member.name} ${selectionSet(member, depth) ?? '{ __typename }'}`);
    return ` { __typename ${members.join(' ')} }`;
  }
  if (isObjectType(named) || isInterfaceType(named)) {
    const fields = Object.values(named.getFields())
      .map((field) => fieldSelection(field, depth))
      .filter((selected): selected is string => selected !== undefined);
    return ` { __typename ${fields.join(' ')} }`;
  }
  return undefined;
}

/** The root fields of an operation type, with their arguments. */
export function rootFields(schema: GraphQLSchema, operation: 'query' | 'subscription') {
  const root = operation === 'query' ? schema.getQueryType() : schema.getSubscriptionType();
  return Object.values(root?.getFields() ?? {});
}

/** A whole operation for one root field, its arguments given as variables. */
export function operationFor(
  operation: 'query' | 'subscription',
  field: GraphQLField<unknown, unknown>,
  depth: number,
): string | undefined {
  const below = selectionSet(field.type, depth);
  if (below === undefined) return undefined;
  const declarations = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`);
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`);
  const variables = declarations.length ? `(${declarations.join(', ')})` : '';
  const args = passed.length ? `(${passed.join(', ')})` : '';
  return `${operation}${variables} { ${field.name}${args}${below} }`;
}

// Every input is bounded before it reaches a resolver, PostgreSQL or Prisma: each String and
// ID has a maximum length (printed in the SDL beside the argument), no string may hold a NUL
// or a lone surrogate (PostgreSQL text cannot store either), and JSON values are bounded in
// depth and size, `@stream(initialCount:)` is not below 0, and `@live(throttle:)` is within
// 0..60000 ms. One walk over the operation's coerced arguments, for every transport.
// Written here rather than per field with a validation plugin: one table states every bound,
// and the same table writes the SDL's descriptions.
import { GraphQLStreamDirective } from '@graphql-tools/utils';
import {
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isInputObjectType,
  isListType,
  isObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLDirective,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values.js';
import { BadInputError } from '../platform/errors.js';
import { unstorableIn } from '../platform/storable.js';
import { graphQLErrorOf } from './errors.js';
import { liveDirective } from './live-directive.js';

/** Characters, for a String or ID not in MAX_LENGTH. */
const DEFAULT_MAX_LENGTH = { String: 1_000, ID: 200 };

/** Longer or shorter bounds, by argument (`Type.field(arg)`) or input field (`Input.field`). */
const MAX_LENGTH: Record<string, number> = {
  'Query.agents(search)': 200,
  'Query.templates(search)': 200,
  'Query.queryAgent(query)': 1_000,
  'Subscription.agentQueryStream(query)': 1_000,
  'Mutation.cloneAgent(name)': 200,
  'Mutation.forkTemplate(name)': 200,
  'Mutation.rateTemplate(review)': 5_000,
  'CreateAgentInput.name': 200,
  'UpdateAgentInput.name': 200,
  'CreateAgentInput.scopeDescription': 5_000,
  'UpdateAgentInput.scopeDescription': 5_000,
  'CreateApiKeyInput.user': 100,
  'CreateApiKeyInput.name': 100,
  'CreateTeamInput.name': 100,
  'Mutation.acceptTeamInvitation(token)': 200,
  'Mutation.changeTeamMemberRole(user)': 100,
  'Mutation.removeTeamMember(user)': 100,
  'Mutation.transferTeamOwnership(user)': 100,
  'Query.apiKeys(user)': 100,
  'CreateTaxonomyInput.name': 200,
  'CreateTemplateInput.name': 200,
  'UpdateTemplateInput.name': 200,
  'CreateTemplateInput.description': 5_000,
  'UpdateTemplateInput.description': 5_000,
  'UpdateTemplateInput.changelog': 5_000,
  'CreateTemplateInput.content': 100_000,
  'UpdateTemplateInput.content': 100_000,
  'CreateTemplateInput.promptSystem': 20_000,
  'UpdateTemplateInput.promptSystem': 20_000,
  'CreateTemplateInput.tags': 50,
  'UpdateTemplateInput.tags': 50,
  'TemplateFilter.tags': 50,
  'DocumentInput.content': 1_000_000,
  'DocumentInput.source': 2_000,
  'GenerateTopicReportInput.plan': 50_000,
  'RefreshCoverageInput.webhookUrl': 2_000,
  'GenerateTopicReportInput.webhookUrl': 2_000,
  'PlanWorkflowInput.webhookUrl': 2_000,
  'Mutation.startWorkflow(webhookUrl)': 2_000,
  'CreateWebhookEndpointInput.url': 2_000,
  'CreateWebhookEndpointInput.description': 500,
  'CreateWebhookEndpointInput.eventTypes': 50,
  'UpdateWebhookEndpointInput.url': 2_000,
  'UpdateWebhookEndpointInput.description': 500,
  'UpdateWebhookEndpointInput.eventTypes': 50,
  'RefreshCoverageInput.idempotencyKey': 200,
  'GenerateTopicReportInput.idempotencyKey': 200,
  // A ceiling only: validGoal counts the 2,000 characters (user-perceived ones, after whitespace
  // is collapsed and trimmed); 16 UTF-16 units each leaves room for emoji sequences.
  'PlanWorkflowInput.goal': 32_000,
  'Mutation.runWorkflow(idempotencyKey)': 200,
  'Mutation.startWorkflow(idempotencyKey)': 200,
  'Mutation.replanWorkflow(hint)': 2_000,
  'Mutation.retryWorkflow(fromStepKey)': 100,
  'WorkflowStepInput.key': 100,
  'WorkflowStepInput.kind': 100,
  'WorkflowStepInput.dependsOn': 100,
  'AddProviderKeyInput.name': 100,
  'AddProviderKeyInput.secret': 4_096,
  'Mutation.rotateProviderKey(secret)': 4_096,
  'PluginSecretInput.value': 4_096,
  'CreateLlmDeploymentInput.name': 100,
  'UpdateLlmDeploymentInput.name': 100,
  'CreateLlmDeploymentInput.baseUrl': 2_000,
  'UpdateLlmDeploymentInput.baseUrl': 2_000,
  'CreateLlmDeploymentInput.model': 200,
  'UpdateLlmDeploymentInput.model': 200,
  'TrustedDocumentInput.hash': 100,
  'TrustedDocumentInput.document': 100_000,
};

/** JSON arguments: nesting depth and serialised size. */
export const JSON_BOUNDS = { maxDepth: 32, maxBytes: 64 * 1024 };

const maxLengthOf = (coordinate: string, typeName: 'String' | 'ID') =>
  MAX_LENGTH[coordinate] ?? DEFAULT_MAX_LENGTH[typeName];

/** Appends each String and ID argument's and input field's bound to its description (the SDL documents it). */
export function describeInputBounds(schema: GraphQLSchema): GraphQLSchema {
  const note = (
    description: string | null | undefined,
    type: GraphQLInputType,
    coordinate: string,
  ) => {
    const named = getNamedType(type).name;
    const bound =
      named === 'String' || named === 'ID'
        ? `At most ${maxLengthOf(coordinate, named).toLocaleString('en-US')} ` +
          `characters${isListType(getNullableType(type)) ? ' each' : ''}.`
        : named === 'JSON'
          ? `At most ${JSON_BOUNDS.maxDepth} levels deep and ${JSON_BOUNDS.maxBytes / 1024} KiB.`
          : undefined;
    if (!bound) return description;
    return description ? `${description.trim()} ${bound}` : bound;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args)
          arg.description = note(
            arg.description,
            arg.type,
            `${type.name}.${field.name}(${arg.name})`,
          );
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        field.description = note(field.description, field.type, `${type.name}.${field.name}`);
    }
  }
  return schema;
}

/**
 * `argument`: its path among the field's arguments (`input.content`, `search`), as every
 * resolver's refusal names it; the message names the field too (`createTemplate(input:).content`).
 */
function refuse(
  fieldName: string,
  argument: string,
  coordinate: string,
  problem: string,
): GraphQLError {
  // A reason clients can switch on, as the services' refusals carry (a goal too long: TOO_LONG).
  const reason = /^must be at most [\d,]+ characters/.test(problem) ? 'TOO_LONG' : 'INVALID_VALUE';
  const [, name, rest] = /^([^.[]+)(.*)$/.exec(argument)!;
  return graphQLErrorOf(
    new BadInputError(
      `${fieldName}(${name}:)${rest}: ${problem}`,
      { coordinate, reason },
      argument,
    ),
  );
}

/** Why a string is refused, if it is. */
function stringProblem(value: string, maxLength: number): string | undefined {
  if (value.length > maxLength)
    return (
      `must be at most ${maxLength.toLocaleString('en-US')} characters ` +
      `(got ${value.length.toLocaleString('en-US')})`
    );
  const unstorable = unstorableIn(value);
  return unstorable && `must not contain ${unstorable}`;
}

/** Why a JSON value is refused, if it is: too deep, too big, or a string PostgreSQL cannot store. */
function jsonProblem(value: unknown): string | undefined {
  let bytes = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (depth > JSON_BOUNDS.maxDepth) return `must be at most ${JSON_BOUNDS.maxDepth} levels deep`;
    if (typeof item === 'string') {
      bytes += item.length;
      const problem = stringProblem(item, Infinity);
      if (problem) return problem.replace('must', 'strings in it must');
    } else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        bytes += key.length + 4;
        const problem = stringProblem(key, Infinity);
        if (problem) return problem.replace('must', 'keys in it must');
        stack.push([child, depth + 1]);
      }
    } else {
      bytes += 8;
    }
    if (bytes > JSON_BOUNDS.maxBytes) return `must be at most ${JSON_BOUNDS.maxBytes / 1024} KiB`;
  }
  return undefined;
}

/**
 * Checks one coerced value of field `fieldName`'s arguments against its input type; `argument`
 * names it for the caller (`input.name`).
 */
function checkValue(
  fieldName: string,
  value: unknown,
  type: GraphQLInputType,
  argument: string,
  coordinate: string,
): GraphQLError | undefined {
  if (value === null || value === undefined) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value))
      return checkValue(fieldName, value, nullable.ofType, argument, coordinate);
    for (const [index, item] of value.entries()) {
      const error = checkValue(
        fieldName,
        item,
        nullable.ofType,
        `${argument}[${index}]`,
        coordinate,
      );
      if (error) return error;
    }
    return undefined;
  }
  if (isInputObjectType(nullable)) {
    for (const field of Object.values(nullable.getFields())) {
      const error = checkValue(
        fieldName,
        (value as Record<string, unknown>)[field.name],
        field.type,
        `${argument}.${field.name}`,
        `${nullable.name}.${field.name}`,
      );
      if (error) return error;
    }
    return undefined;
  }
  const name = getNamedType(nullable).name;
  if ((name === 'String' || name === 'ID') && typeof value === 'string') {
    const problem = stringProblem(value, maxLengthOf(coordinate, name));
    return problem ? refuse(fieldName, argument, coordinate, problem) : undefined;
  }
  if (name === 'JSON') {
    const problem = jsonProblem(value);
    return problem ? refuse(fieldName, argument, coordinate, problem) : undefined;
  }
  return undefined;
}

/**
 * A directive's number argument outside its bound, as BAD_USER_INPUT naming it; undefined when
 * the directive is absent, the value holds, or it does not coerce (left to execution, as an
 * argument that does not coerce).
 */
function directiveArgumentRefusal(
  node: FieldNode | OperationDefinitionNode,
  directive: GraphQLDirective,
  argument: string,
  variableValues: Record<string, unknown>,
  bound: { min: number; max?: number; says: string },
): GraphQLError | undefined {
  if (!node.directives?.some((each) => each.name.value === directive.name)) return undefined;
  let value: unknown;
  try {
    value = getDirectiveValues(directive, node, variableValues)?.[argument];
  } catch {
    return undefined;
  }
  if (typeof value !== 'number' || (value >= bound.min && value <= (bound.max ?? Infinity)))
    return undefined;
  return graphQLErrorOf(
    new BadInputError(
      `@${directive.name} ${argument} must be ${bound.says}, got ${value}`,
      { coordinate: `@${directive.name}(${argument})`, reason: 'INVALID_VALUE' },
      argument,
    ),
  );
}

/**
 * `@stream(initialCount:)` below 0: the executor would throw it from inside the field, an
 * internal error. The directive's rule: "initialCount must be a non-negative integer"
 * (https://github.com/graphql/graphql-wg/blob/main/rfcs/DeferStream.md).
 */
const streamCountRefusal = (node: FieldNode, variableValues: Record<string, unknown>) =>
  directiveArgumentRefusal(node, GraphQLStreamDirective, 'initialCount', variableValues, {
    min: 0,
    says: '0 or more',
  });

/** The most `@live(throttle:)` may ask between two results, in ms (the SDL says it). */
export const MAX_LIVE_THROTTLE_MS = 60_000;

/**
 * `@live(throttle:)` outside 0..MAX_LIVE_THROTTLE_MS: the store would give less time than asked
 * (its most), or take a negative wait. Below the server's least it is met as asked: results
 * come at least that far apart.
 */
const liveThrottleRefusal = (
  operation: OperationDefinitionNode,
  variableValues: Record<string, unknown>,
) =>
  directiveArgumentRefusal(operation, liveDirective, 'throttle', variableValues, {
    min: 0,
    max: MAX_LIVE_THROTTLE_MS,
    says: `from 0 to ${MAX_LIVE_THROTTLE_MS} ms`,
  });

/**
 * The first argument of the operation that breaks a bound, as BAD_USER_INPUT naming it; undefined
 * when all hold. Arguments that do not coerce are left to execution, which reports them.
 */
export function checkInputBounds(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
): GraphQLError | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const coerced = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    rawVariables ?? {},
  );
  if (coerced.errors) return undefined;
  const variableValues = coerced.coerced;
  const typeInfo = new TypeInfo(schema);
  let found = liveThrottleRefusal(operation, variableValues);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      [Kind.FIELD]: (node) => {
        if (found) return;
        found = streamCountRefusal(node, variableValues);
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (found || !field || !parent || !node.arguments?.length) return;
        let values: Record<string, unknown>;
        try {
          values = getArgumentValues(field, node, variableValues);
        } catch {
          return;
        }
        for (const arg of field.args) {
          found = checkValue(
            field.name,
            values[arg.name],
            arg.type,
            arg.name,
            `${parent.name}.${field.name}(${arg.name})`,
          );
          if (found) return;
        }
      },
    }),
  );
  return found;
}

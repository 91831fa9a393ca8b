// What @live is refused on, as request errors (BAD_USER_INPUT) on every transport: a mutation
// (it runs once) or a subscription (it is live already), by validation; and, once the variables
// say the query is live (`@live(if: $live)` may say it is not), a live query with @defer or
// @stream, or one asking for a field that writes when it is read (Agent.coverage records a
// history entry, which is a change of the agent: the query would run itself again and again).
import { isLiveQueryOperationDefinitionNode } from '@n1ru4l/graphql-live-query';
import {
  getOperationAST,
  GraphQLError,
  validate,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from '../../platform/errors.js';
import { WRITES_WHEN_READ } from '../../schema/writes-when-read.js';

const badInput = (message: string, node: ASTNode) =>
  new GraphQLError(message, { nodes: node, extensions: { code: ErrorCode.BAD_USER_INPUT } });

/** @live on a mutation or a subscription. */
export const liveOnQueriesOnly: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (operation.operation === 'query') return;
    const live = operation.directives?.find((directive) => directive.name.value === 'live');
    if (live)
      context.reportError(
        badInput(
          `@live applies to queries: a ${operation.operation} cannot be live` +
            (operation.operation === 'subscription' ? ' (it is a stream already)' : ''),
          live,
        ),
      );
  },
});

/**
 * Validation's errors as @live's refusals should be: graphql-js's KnownDirectivesRule refuses
 * the directive ours refused (its location), without a code, and is left out.
 */
export function liveRefusals<E extends Error>(errors: readonly E[]): E[] {
  const nodesOf = (e: Error) => (e instanceof GraphQLError ? (e.nodes ?? []) : []);
  const codeOf = (e: Error) => (e instanceof GraphQLError ? e.extensions.code : undefined);
  const ours = new Set(
    errors.filter((e) => codeOf(e) === ErrorCode.BAD_USER_INPUT).flatMap(nodesOf),
  );
  return errors.filter(
    (e) => codeOf(e) !== undefined || !nodesOf(e).some((node) => ours.has(node)),
  );
}

/**
 * The operation's refusal as a live query, once its variables are known; undefined when it is
 * not live (no @live, or `if` false) or asks for nothing a live query may not.
 */
export function liveQueryRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || !isLiveQueryOperationDefinitionNode(operation, variables ?? undefined))
    return undefined;
  return validate(schema, document, [liveQueryLimits(operation)])[0];
}

/**
 * In `live` and the fragments it uses: @defer and @stream (a live query's results replace each
 * other whole; @envelop/live-query's rule says the same, without a code and whatever `if`
 * says), and fields that write when read.
 */
const liveQueryLimits =
  (live: OperationDefinitionNode): ValidationRule =>
  (context) => {
    const fragments = new Set(
      context.getRecursivelyReferencedFragments(live).map((fragment) => fragment.name.value),
    );
    return {
      OperationDefinition(operation) {
        if (operation !== live) return false;
      },
      FragmentDefinition(fragment) {
        if (!fragments.has(fragment.name.value)) return false;
      },
      Directive(node) {
        const name = node.name.value;
        if (name === 'defer' || name === 'stream')
          context.reportError(badInput(`Cannot mix "@${name}" with "@live".`, node));
      },
      Field(node) {
        const field = context.getFieldDef();
        if (!field?.extensions?.[WRITES_WHEN_READ]) return;
        context.reportError(
          badInput(
            `A live query cannot select ${context.getParentType()?.name}.${field.name}: reading ` +
              'it records a change, which would run the query again',
            node,
          ),
        );
      },
    };
  };

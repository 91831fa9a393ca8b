// What @live is refused on, as request errors (BAD_USER_INPUT) on every transport: a mutation
// (it runs once) or a subscription (it is live already), a live query with @defer or @stream,
// and one asking for a field that writes when it is read (Agent.coverage records a history
// entry, which is a change of the agent: the query would run itself again and again).
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import { GraphQLError, Kind, type ASTNode, type ValidationRule } from 'graphql';
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

/** @envelop/live-query's own rule (NoLiveMixedWithDeferStreamRule) says this, without a code. */
const MIXED = /^Cannot mix "@(defer|stream)" with "@live"\.$/;

/**
 * Validation's errors as @live's refusals should be: graphql-js's KnownDirectivesRule refuses
 * the directive ours refused (its location), without a code, and is left out; the library's
 * refusal of @defer or @stream beside @live gets our code.
 */
export function liveRefusals<E extends Error>(errors: readonly E[]): E[] {
  const nodesOf = (e: Error) => (e instanceof GraphQLError ? (e.nodes ?? []) : []);
  const codeOf = (e: Error) => (e instanceof GraphQLError ? e.extensions.code : undefined);
  const ours = new Set(
    errors.filter((e) => codeOf(e) === ErrorCode.BAD_USER_INPUT).flatMap(nodesOf),
  );
  return errors
    .filter((e) => codeOf(e) !== undefined || !nodesOf(e).some((node) => ours.has(node)))
    .map((e) =>
      codeOf(e) === undefined && MIXED.test(e.message)
        ? (badInput(e.message, nodesOf(e)[0]!) as unknown as E)
        : e,
    );
}

export const noWritesInLiveQueries: ValidationRule = (context) => {
  // Only live queries are looked into, and the fragments they use.
  const liveFragments = new Set<string>();
  return {
    Document(document) {
      for (const definition of document.definitions)
        if (definition.kind === Kind.OPERATION_DEFINITION && getLiveDirectiveNode(definition))
          for (const fragment of context.getRecursivelyReferencedFragments(definition))
            liveFragments.add(fragment.name.value);
    },
    OperationDefinition(operation) {
      if (!getLiveDirectiveNode(operation)) return false;
    },
    FragmentDefinition(fragment) {
      if (!liveFragments.has(fragment.name.value)) return false;
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

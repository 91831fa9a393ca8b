// Limits on what one GraphQL document may ask for (graphql-armor, validated before execution):
// depth, aliases, directives, tokens and a static cost. Rejections are validation errors
// (HTTP 400). Field suggestions ("Did you mean …?") stay on: every caller is authenticated,
// and GraphiQL users rely on them.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import { ErrorCode } from '../platform/errors.js';

// Well above every operation of the test suite and our typed client (all run under them)
// and the full introspection query (tests/server.test.ts).
export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 5_000,
  /**
   * Armor's static cost compounds 1.5× per level, so connection queries cost more than their
   * size suggests: templates → edges → node → ratings → edges → node (12 fields) costs 6,161.
   */
  maxCost: 50_000,
};

/**
 * Armor throws its rejection from inside validation, which yoga answers like an execution
 * error (HTTP 200). Reported to the validation context instead, it is a validation error:
 * HTTP 400 and BAD_USER_INPUT. The token limit is checked while parsing (no context): thrown
 * with its status.
 */
function reject(context: ValidationContext | null, error: GraphQLError): void {
  const refusal = new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
    extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
  });
  if (!context) throw refusal;
  context.reportError(refusal);
}

const reported = { propagateOnRejection: false, onReject: [reject] };

export const operationLimits = () =>
  EnvelopArmorPlugin({
    blockFieldSuggestion: { enabled: false },
    maxDepth: { n: OPERATION_LIMITS.maxDepth, ...reported },
    maxAliases: { n: OPERATION_LIMITS.maxAliases, ...reported },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives, ...reported },
    maxTokens: { n: OPERATION_LIMITS.maxTokens, ...reported },
    costLimit: { maxCost: OPERATION_LIMITS.maxCost, ...reported },
  });

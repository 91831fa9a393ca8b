// Limits on what one GraphQL document may ask for (graphql-armor, validated before execution):
// depth, aliases, directives, tokens and a static cost. Rejections are validation errors:
// HTTP 400 under application/graphql-response+json, 200 under application/json (GraphQL over
// HTTP's rule for validation errors). Field suggestions ("Did you mean …?") stay on: every
// caller is authenticated, and GraphiQL users rely on them.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ExecutionArgs, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../platform/errors.js';
import { graphQLErrorOf } from '../schema/errors.js';
import { checkInputBounds } from '../schema/input-bounds.js';

// Well above every operation of the test suite and our typed client (all run under them)
// and the full introspection query (tests/http/server.test.ts).
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
 * error (HTTP 200). Reported to the validation context instead, it is a validation error
 * with BAD_USER_INPUT (HTTP 400 where the client accepts application/graphql-response+json).
 * The token limit is checked while parsing (no context): thrown with its status.
 */
function reject(context: ValidationContext | null, error: GraphQLError): void {
  const refusal = graphQLErrorOf(badUserInput(error.message.replace(/^Syntax Error: /, '')), {
    extensions: { http: { status: 400 } },
  });
  if (!context) throw refusal;
  context.reportError(refusal);
}

const reported = { propagateOnRejection: false, onReject: [reject] };

/**
 * Depth and cost count fields only: a fragment (inline or spread, `@defer` on it or not) is not
 * a level of its own, so wrapping a selection in `... @defer { }` changes neither.
 */
const fieldsOnly = { flattenFragments: true };

export const operationLimits = () =>
  EnvelopArmorPlugin({
    blockFieldSuggestion: { enabled: false },
    maxDepth: { n: OPERATION_LIMITS.maxDepth, ...fieldsOnly, ...reported },
    maxAliases: { n: OPERATION_LIMITS.maxAliases, ...reported },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives, ...reported },
    maxTokens: { n: OPERATION_LIMITS.maxTokens, ...reported },
    costLimit: { maxCost: OPERATION_LIMITS.maxCost, ...fieldsOnly, ...reported },
  });

/**
 * graphql-js stops validating a document whose fields take too much work to compare (the same
 * field asked for hundreds of times, directly or through fragments: its budget for
 * OverlappingFieldsCanBeMerged and for fragment spreads) with a bare "Validation aborted.",
 * which names no limit. Said here as armor's refusals say theirs.
 */
export const validationBudget = (): Plugin => ({
  onValidate:
    () =>
    ({ result, setResult }) => {
      const aborted = (error: unknown) =>
        error instanceof GraphQLError && error.message === 'Validation aborted.' && !error.nodes;
      if (!result.some(aborted)) return;
      const refusal = graphQLErrorOf(
        badUserInput(
          'The document repeats fields too often to be validated (graphql-js spent its ' +
            'validation budget comparing them): ask for each field once',
        ),
        { extensions: { http: { status: 400 } } },
      );
      setResult(result.map((error) => (aborted(error) ? refusal : error)));
    },
});

/**
 * Input bounds (src/schema/input-bounds.ts) before execution: a refusal is a request error
 * (HTTP 400 under every JSON media type, BAD_USER_INPUT naming the argument).
 */
export const inputBounds = (): Plugin => {
  const check = ({ args }: { args: ExecutionArgs }) => {
    const refusal = checkInputBounds(
      args.schema,
      args.document,
      args.operationName,
      args.variableValues as Record<string, unknown> | undefined,
    );
    if (refusal) throw withStatus(refusal, 400);
  };
  // Subscribe too: a subscription POSTed for a JSON answer runs through it, not through execute.
  return { onExecute: check, onSubscribe: check };
};

/** The error with the HTTP status yoga answers it with (a request error: 400). */
export const withStatus = (error: GraphQLError, status: number) =>
  new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });

/** Brackets, braces and parentheses open at once in a document, at most. */
export const MAX_DOCUMENT_NESTING = 100;

/**
 * How deep a document's brackets nest, counted in one pass before it is parsed: graphql-js's
 * parser recurses once per level, so a list literal nested thousands deep would overflow the
 * stack (an internal error) before armor's token limit is reached.
 */
export function documentNesting(source: string, limit = MAX_DOCUMENT_NESTING): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (char === '"') {
      const block = source.startsWith('"""', i);
      const end = block ? '"""' : '"';
      for (i += end.length; i < source.length && !source.startsWith(end, i); i++)
        if (source[i] === '\\') i++;
      i += end.length - 1;
    } else if (char === '[' || char === '{' || char === '(') {
      deepest = Math.max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (char === ']' || char === '}' || char === ')') {
      depth--;
    }
  }
  return deepest;
}

/** Refuses a document nested deeper than MAX_DOCUMENT_NESTING before any parser sees it. */
export const documentNestingLimit = (): Plugin => ({
  onParse({ params }) {
    const source = typeof params.source === 'string' ? params.source : params.source.body;
    if (documentNesting(source) > MAX_DOCUMENT_NESTING) {
      throw graphQLErrorOf(
        badUserInput(`The document nests deeper than ${MAX_DOCUMENT_NESTING} levels of brackets`),
        { extensions: { http: { status: 400 } } },
      );
    }
  },
});

// The one place domain errors (src/platform/errors.ts) become the contract's GraphQL errors:
// the code in extensions.code, the message as is, and the error's details beside the code.
// maskError applies it to every error of a result (yoga's and our own transports'), and
// turns anything unexpected into INTERNAL_SERVER_ERROR without its message or stack.
import { PothosError, PothosValidationError } from '@pothos/core';
import {
  GraphQLError,
  Kind,
  parse,
  visit,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type Source,
} from 'graphql';
import {
  BadInputError,
  DomainError,
  ErrorCode,
  mapPrismaError,
  RateLimitedError,
  RequestAbandonedError,
  ServiceUnavailableError,
  UnauthenticatedError,
} from '../platform/errors.js';
import { logger } from '../platform/logger.js';

export interface ErrorPlacement {
  nodes?: ReadonlyArray<ASTNode> | ASTNode;
  path?: ReadonlyArray<string | number>;
  /** Hints for the HTTP layer (yoga reads `http` for the response's status and headers). */
  extensions?: Record<string, unknown>;
}

function extensionsOf(error: DomainError): Record<string, unknown> {
  // The argument at fault, also where a service named it `field` (the older spelling, kept).
  const argument =
    error instanceof BadInputError
      ? (error.argument ??
        (typeof error.details.field === 'string' ? error.details.field : undefined))
      : undefined;
  if (argument !== undefined) return { code: error.code, argument, ...error.details };
  // Any refusal for a rate or a budget is an HTTP 429 with Retry-After (the plan limit and LLM
  // budgets refuse inside a resolver, the request buckets before execution: the same shape).
  if (error instanceof RateLimitedError)
    return {
      code: error.code,
      retryAfter: error.retryAfter,
      ...error.details,
      http: { status: 429, headers: { 'Retry-After': String(error.retryAfter) } },
    };
  // RFC 9110 §15.6.4: 503 with Retry-After, a condition expected to pass.
  if (error instanceof ServiceUnavailableError)
    return {
      code: error.code,
      retryAfter: error.retryAfter,
      http: { status: 503, headers: { 'Retry-After': String(error.retryAfter) } },
    };
  // RFC 9110 §11.6.1: a 401 names the scheme that would pass.
  if (error instanceof UnauthenticatedError)
    return { code: error.code, http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } };
  return { code: error.code, ...error.details };
}

/** The contract's GraphQL error for a domain error, at a field's location when it has one. */
export function graphQLErrorOf(error: DomainError, placement: ErrorPlacement = {}): GraphQLError {
  const { extensions, ...location } = placement;
  return new GraphQLError(error.message, {
    ...location,
    extensions: { ...extensionsOf(error), ...extensions },
  });
}

/** What a GraphQL error's code is (or will be once masked): for counting errors before masking. */
export function errorCodeOf(error: GraphQLError): unknown {
  return error.originalError instanceof DomainError
    ? error.originalError.code
    : error.extensions?.code;
}

/** A GraphQLError that already carries its code (ours from src/http, yoga's request errors). */
function maskCodedError(original: GraphQLError, outer: GraphQLError | undefined) {
  // yoga's own request errors (a body that is not JSON, ...) say BAD_REQUEST and, in
  // extensions.originalError, echo the request: ours say BAD_USER_INPUT and echo nothing.
  const { originalError: echo, ...extensions } = original.extensions;
  const code = extensions.code === 'BAD_REQUEST' ? ErrorCode.BAD_USER_INPUT : extensions.code;
  if (original === outer && echo === undefined && code === extensions.code) return original;
  // yoga answers such an error with 200 to a client accepting only application/json unless it
  // carries the echo or keeps its status outside the spec's leeway: its status stays.
  const http = extensions.http as { status?: number; spec?: boolean } | undefined;
  const status = http?.status ? { http: { status: http.status } } : {};
  return new GraphQLError(original.message, {
    ...(outer ? { nodes: outer.nodes, path: outer.path } : {}),
    extensions: { ...extensions, ...status, code },
  });
}

/**
 * What a refused request names in `extensions.argument`: for a variable graphql-js could not
 * coerce, the argument it feeds and the path inside it (`input.kind` from
 * `Variable "$input" got invalid value … at "input.kind"`), the same path a service's own check
 * names (docs/clients.md); for Pothos's connection checks (`Argument "first" must be …`), that
 * argument.
 */
function refusedArgument(error: GraphQLError): { argument: string } | object {
  const variable = /^Variable "\$(\w+)"/.exec(error.message)?.[1];
  if (variable) {
    const argument = argumentFedBy(error, variable);
    if (!argument) return {};
    // The path within the variable's value, past its name: `.kind`, `.nodes[1].parentKey`.
    const at = /^Variable "\$\w+" got invalid value .*? at "([^"]+)";/s.exec(error.message)?.[1];
    const inside = at?.startsWith(variable) ? at.slice(variable.length) : '';
    return { argument: `${argument}${inside}` };
  }
  const named = /^Argument "(\w+)"/.exec(error.message)?.[1];
  return named ? { argument: named } : {};
}

/** Each request's document, parsed once for all of its refused variables (one Source each). */
const parsedSources = new WeakMap<Source, DocumentNode | null>();

function documentOf(source: Source): DocumentNode | undefined {
  if (!parsedSources.has(source)) {
    let document: DocumentNode | null = null;
    try {
      document = parse(source);
    } catch {
      // Not a document (it was one when graphql-js refused the variable): nothing to name.
    }
    parsedSources.set(source, document);
  }
  return parsedSources.get(source) ?? undefined;
}

/**
 * The one field argument the operation defining `$variable` (the one the error points at)
 * passes it to (`input: $input`), in the operation or the fragments it spreads; undefined when
 * it feeds none or several, or sits deeper (inside a list or an input object) or in a
 * directive, where no field argument is its own.
 */
function argumentFedBy(error: GraphQLError, variable: string): string | undefined {
  const at = error.positions?.[0];
  const document = error.source && at !== undefined ? documentOf(error.source) : undefined;
  const operation = document?.definitions.find(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      definition.loc !== undefined &&
      definition.loc.start <= at! &&
      at! < definition.loc.end,
  );
  if (!document || !operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  const names = new Set<string>();
  const spread = new Set<string>();
  const pending: ASTNode[] = [operation];
  for (let node = pending.pop(); node; node = pending.pop())
    visit(node, {
      Directive: () => false,
      Argument(argument) {
        if (argument.value.kind === Kind.VARIABLE && argument.value.name.value === variable)
          names.add(argument.name.value);
      },
      FragmentSpread({ name: { value: name } }) {
        const fragment = fragments.get(name);
        if (fragment && !spread.has(name)) pending.push(fragment);
        spread.add(name);
      },
    });
  return names.size === 1 ? [...names][0] : undefined;
}

/** graphql-js could not coerce a variable (a wrong type, a missing one): a request error. */
const isVariableRefusal = (error: GraphQLError) =>
  !error.path && /^Variable "\$/.test(error.message);

/**
 * A request error has no `data`, so GraphQL over HTTP answers it with 400 under
 * application/graphql-response+json
 * (https://graphql.github.io/graphql-over-http/draft/#sec-application-graphql-response-json);
 * yoga's `http.spec` flag keeps it at 200 under application/json, which GraphQL over HTTP allows
 * (https://graphql.github.io/graphql-over-http/draft/#sec-application-json).
 */
const VARIABLE_REFUSAL_HTTP = { http: { status: 400, spec: true } };

/**
 * yoga's maskError: domain errors and coded client errors pass with their code, Prisma errors
 * are mapped, anything else is logged and replaced by INTERNAL_SERVER_ERROR.
 */
export function maskError(error: unknown): Error {
  const outer = error instanceof GraphQLError ? error : undefined;
  const original = outer?.originalError ?? error;
  const location = outer ? { nodes: outer.nodes, path: outer.path } : {};
  if (original instanceof DomainError) return graphQLErrorOf(original, location);
  if (original instanceof GraphQLError) {
    if (original.extensions?.code) return maskCodedError(original, outer);
    // graphql-js's request errors (parse, validation, variable coercion: no path) and Pothos's
    // input validation are the caller's; a GraphQLError a resolver threw without a code is ours.
    if (
      (!outer!.path && !(original instanceof PothosError)) ||
      original instanceof PothosValidationError
    ) {
      const { http: _http, code, ...extensions } = outer!.extensions ?? {};
      return new GraphQLError(outer!.message, {
        ...location,
        extensions: {
          code: code ?? ErrorCode.BAD_USER_INPUT,
          ...refusedArgument(outer!),
          ...extensions,
          ...(isVariableRefusal(outer!) ? VARIABLE_REFUSAL_HTTP : {}),
        },
      });
    }
  }
  // A scalar that refused a variable's value (graphql-js wraps what it threw).
  if (outer && isVariableRefusal(outer)) {
    return new GraphQLError(outer.message, {
      ...location,
      extensions: {
        code: ErrorCode.BAD_USER_INPUT,
        ...refusedArgument(outer),
        ...VARIABLE_REFUSAL_HTTP,
      },
    });
  }
  const mapped = mapPrismaError(original);
  if (mapped) return graphQLErrorOf(mapped, location);
  // No client reads this answer: an event of the request's, not an unexpected error.
  if (original instanceof RequestAbandonedError) {
    logger.info({ path: outer?.path, cause: String(original.cause) }, original.message);
    return new GraphQLError(original.message, {
      ...location,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    });
  }
  logger.error({ err: original }, 'unexpected error');
  return new GraphQLError('Internal server error', {
    ...location,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  });
}

/**
 * maskError for a client yoga does not answer itself (an event stream, a WebSocket): without
 * the `http` hints yoga reads for a response's status and headers.
 */
export function maskErrorForStream(error: unknown): GraphQLError {
  const masked = maskError(error) as GraphQLError;
  if (!masked.extensions?.http) return masked;
  const { http: _http, ...extensions } = masked.extensions;
  return new GraphQLError(masked.message, {
    nodes: masked.nodes,
    source: masked.source,
    positions: masked.positions,
    path: masked.path,
    extensions,
  });
}

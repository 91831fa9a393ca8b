// The contract's error codes, the helpers that raise them, and the one place that
// turns unexpected errors (Prisma's included) into safe client errors.
import { PothosError, PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { Prisma } from '../generated/prisma/client.js';
import { logger } from './logger.js';

export const ErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An expected failure: shown to the client as is, with its code. */
export function clientError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return createGraphQLError(message, { extensions: { code, ...extensions } });
}

export const notFound = (what: string) => clientError(ErrorCode.NOT_FOUND, `${what} not found`);
export const conflict = (message: string) => clientError(ErrorCode.CONFLICT, message);
export const badUserInput = (message: string, extensions?: Record<string, unknown>) =>
  clientError(ErrorCode.BAD_USER_INPUT, message, extensions);
export const forbidden = (message = 'Not allowed for this API key') =>
  clientError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (
  message = 'A valid API key is required (Authorization: Bearer <key> or X-API-Key)',
) =>
  createGraphQLError(message, {
    extensions: {
      code: ErrorCode.UNAUTHENTICATED,
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
    },
  });

/** Prisma's known request errors that are the caller's doing, mapped in this one place. */
export function mapPrismaError(error: unknown): GraphQLError | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  switch (error.code) {
    case 'P2025':
      return clientError(ErrorCode.NOT_FOUND, 'Record not found');
    case 'P2007': // a malformed id (not a UUID) in a lookup: no such record
      return clientError(ErrorCode.NOT_FOUND, 'Record not found');
    case 'P2002':
      return clientError(ErrorCode.CONFLICT, 'A record with these values already exists');
    case 'P2003':
      return clientError(ErrorCode.BAD_USER_INPUT, 'A referenced record does not exist');
    case 'P2010': // a raw statement ($queryRaw) failed; only a foreign key is the caller's doing
      return violatedForeignKey(error)
        ? clientError(ErrorCode.BAD_USER_INPUT, 'A referenced record does not exist')
        : undefined;
    default:
      return undefined;
  }
}

/** The foreign key a raw statement ($queryRaw) violated, if that is why it failed. */
export function violatedForeignKey(error: unknown): string | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2010')
    return undefined;
  const cause = (
    error.meta?.driverAdapterError as
      { cause?: { kind?: string; constraint?: { index?: string } } } | undefined
  )?.cause;
  return cause?.kind === 'ForeignKeyConstraintViolation' ? cause.constraint?.index : undefined;
}

/**
 * yoga's maskError: client errors pass, Prisma errors are mapped, anything else is logged
 * and replaced by INTERNAL_SERVER_ERROR without its message or stack.
 */
export function maskError(error: unknown): Error {
  const outer = error instanceof GraphQLError ? error : undefined;
  const original = outer?.originalError ?? error;
  const location = outer ? { nodes: outer.nodes, path: outer.path } : {};
  if (original instanceof GraphQLError) {
    // Thrown by our resolvers with a code: shown as is, at the field's location.
    if (original.extensions?.code) {
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
        ...location,
        extensions: { ...extensions, ...status, code },
      });
    }
    // graphql-js's request errors (parse, validation, variable coercion: no path) and Pothos's
    // input validation are the caller's; a GraphQLError a resolver threw without a code is ours.
    if (
      (!outer!.path && !(original instanceof PothosError)) ||
      original instanceof PothosValidationError
    ) {
      const { http: _http, ...extensions } = outer!.extensions ?? {};
      return new GraphQLError(outer!.message, {
        ...location,
        extensions: { ...extensions, code: extensions.code ?? ErrorCode.BAD_USER_INPUT },
      });
    }
  }
  // A scalar that refused a variable's value (graphql-js wraps what it threw).
  if (outer && !outer.path && /^Variable "\$/.test(outer.message)) {
    return new GraphQLError(outer.message, {
      ...location,
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    });
  }
  const mapped = mapPrismaError(original);
  if (mapped)
    return new GraphQLError(mapped.message, { ...location, extensions: mapped.extensions });
  logger.error({ err: original }, 'unexpected error');
  return new GraphQLError('Internal server error', {
    ...location,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  });
}

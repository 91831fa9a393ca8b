// The domain's errors: what services throw when a caller's request cannot be met, as typed
// classes callers can `instanceof` (river's JobCancel, BullMQ's UnrecoverableError), and the
// one map of Prisma's request errors onto them. No GraphQL here: src/schema/errors.ts turns
// them into the contract's errors, with these codes, once.
import { Prisma } from '../generated/prisma/client.js';

/** The contract's error codes: every error a client sees carries one. */
export const ErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A trusted document's id that is not registered (Apollo's persisted-query semantics). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** TRUSTED_DOCUMENTS_ONLY: a document that is not registered. */
  TRUSTED_DOCUMENT_REQUIRED: 'TRUSTED_DOCUMENT_REQUIRED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra facts about a failure that a client may act on (shown beside the code). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** An expected failure, the caller's to fix: shown to the client with its message and details. */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;

  constructor(
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No such thing for this caller (unknown, malformed, or not theirs to see). */
export class NotFoundError extends DomainError {
  readonly code = ErrorCode.NOT_FOUND;

  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

/** The request clashes with the current state (already exists, already running, finished). */
export class ConflictError extends DomainError {
  readonly code = ErrorCode.CONFLICT;
}

/** Input the service refuses; `argument` names the argument at fault when one is. */
export class BadInputError extends DomainError {
  readonly code = ErrorCode.BAD_USER_INPUT;

  constructor(
    message: string,
    details: ErrorDetails = {},
    readonly argument?: string,
  ) {
    super(message, details);
  }
}

/** Ids the caller named that cannot be used there: the message and details name each one. */
export class InvalidIdsError extends BadInputError {
  constructor(
    readonly problem: string,
    readonly ids: readonly string[],
    argument?: string,
  ) {
    super(`${problem}: ${ids.join(', ')}`, { invalidIds: ids }, argument);
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends DomainError {
  readonly code = ErrorCode.FORBIDDEN;
}

/** No valid API key was presented. */
export class UnauthenticatedError extends DomainError {
  readonly code = ErrorCode.UNAUTHENTICATED;
}

/** Over a rate limit: `retryAfter` seconds until the next attempt can pass. */
export class RateLimitedError extends DomainError {
  readonly code = ErrorCode.RATE_LIMITED;

  constructor(
    message: string,
    readonly retryAfter: number,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

export const notFound = (what: string) => new NotFoundError(what);
export const conflict = (message: string, details?: ErrorDetails) =>
  new ConflictError(message, details);
export const badUserInput = (message: string, details?: ErrorDetails) =>
  new BadInputError(message, details);
export const forbidden = (message = 'Not allowed for this API key') => new ForbiddenError(message);
export const unauthenticated = (
  message = 'A valid API key is required (Authorization: Bearer <key> or X-API-Key)',
) => new UnauthenticatedError(message);

const NO_REFERENCED_RECORD = 'A referenced record does not exist';

/** Prisma's known request errors that are the caller's doing, mapped in this one place. */
export function mapPrismaError(error: unknown): DomainError | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  switch (error.code) {
    case 'P2025':
      return notFound('Record');
    case 'P2007': // a malformed id (not a UUID) in a lookup: no such record
      return notFound('Record');
    case 'P2002':
      return conflict('A record with these values already exists');
    case 'P2003':
      return badUserInput(NO_REFERENCED_RECORD);
    case 'P2010': // a raw statement ($queryRaw) failed; only a foreign key is the caller's doing
      return violatedForeignKey(error) ? badUserInput(NO_REFERENCED_RECORD) : undefined;
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

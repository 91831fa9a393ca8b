// The domain's errors: what services throw when a caller's request cannot be met, as typed
// classes callers can `instanceof` (river's JobCancel, BullMQ's UnrecoverableError), and the
// one map of Prisma's request errors onto them. No GraphQL here: src/schema/errors.ts turns
// them into the contract's errors, with these codes, once.
import { Prisma } from '../generated/prisma/client.js';
import pg from 'pg';

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
  /** A store the request needs (PostgreSQL) is unreachable for now: try again after retryAfter. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A plugin's outside service gave no usable answer (too slow, too large, unreachable). */
  UPSTREAM_FAILED: 'UPSTREAM_FAILED',
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

/**
 * The request's client went away while it was being answered (its connection closed, its
 * operation stopped), and what it waited on stopped with it. Not the caller's mistake nor a
 * fault of ours: src/schema/errors.ts logs it as an event, not as an unexpected error.
 */
export class RequestAbandonedError extends Error {
  constructor(cause?: unknown) {
    super('the request was abandoned by its client', { cause });
    this.name = 'RequestAbandonedError';
  }
}

/**
 * `work`, whose failure once `signal` (the request's, Context.signal) has aborted is the
 * request's abandonment, whatever the work threw then.
 */
export async function unlessAbandoned<T>(
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted) throw new RequestAbandonedError(error);
    throw error;
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

/** PostgreSQL cannot be reached now (down, restarting, out of connections): retryable. */
export class ServiceUnavailableError extends DomainError {
  readonly code = ErrorCode.SERVICE_UNAVAILABLE;

  constructor(
    message = 'The database is unavailable; try again shortly',
    readonly retryAfter = DATABASE_RETRY_AFTER_SECONDS,
  ) {
    super(message);
  }
}

/** A plugin's call got no usable answer; `reason` says which bound or failure (docs/plugins.md). */
export class UpstreamError extends DomainError {
  readonly code = ErrorCode.UPSTREAM_FAILED;
}

/** What a client is told to wait while PostgreSQL is away: a restart or failover takes seconds. */
const DATABASE_RETRY_AFTER_SECONDS = 2;

// Prisma's codes for a server it cannot reach or that went away: P1001 cannot reach, P1002
// and P1008 timed out, P1017 closed the connection, P2024 no connection from the pool in time.
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
// The driver adapter's kinds for the same.
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
// SQLSTATE (PostgreSQL appendix A): class 08 connection exceptions, 57P01-57P03 (shut down,
// crashed, cannot connect now) and 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
// node-postgres's own errors for a socket that went away (a statement on a connection the
// server ended while it idled is "Client has encountered a connection error and is not queryable").
const POOL_MESSAGES =
  /Connection terminated|is not queryable|timeout exceeded when trying to connect/;
// Node's socket errors, by their code: a refused, reset or timed-out connection.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);

/**
 * The ports PostgreSQL is reached on (the primary's pool, each replica's). A socket's own error
 * names the port it failed on: a refused connection to Redis or to an HTTP service a task calls
 * is not the database's.
 */
const databasePorts = new Set<number>();

export function noteDatabaseUrl(url: string): void {
  const { port } = new URL(url);
  databasePorts.add(port ? Number(port) : 5432);
}

/**
 * Whether a socket error is the database's: a connection's error names its port (an
 * AggregateError of the addresses tried, each of theirs); a reset names none and counts.
 */
function onDatabasePort(error: { port?: unknown; errors?: unknown }): boolean {
  const tried = Array.isArray(error.errors) ? (error.errors as Array<{ port?: unknown }>) : [error];
  const ports = tried.map((each) => each.port).filter((port) => typeof port === 'number');
  return ports.length === 0 || ports.some((port) => databasePorts.has(port));
}

/** Whether the error says PostgreSQL is unreachable now (not a fault of the statement). */
export function databaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    const { code, meta, message } = cause as {
      code?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } };
      message?: unknown;
    };
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))
    )
      return true;
    const adapterCause = meta?.driverAdapterError?.cause;
    if (adapterCause?.kind && UNAVAILABLE_KINDS.has(adapterCause.kind)) return true;
    if (adapterCause?.code && UNAVAILABLE_SQLSTATE.test(adapterCause.code)) return true;
    if (typeof message === 'string' && POOL_MESSAGES.test(message)) return true;
    // By the code Node gave it, not by its words: a handler's error that quotes another
    // service's refusal ("connect ECONNREFUSED ...") is that handler's failure.
    if (typeof code === 'string' && SOCKET_CODES.has(code) && onDatabasePort(cause)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
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

/**
 * Prisma's known request errors that are the caller's doing, and PostgreSQL out of reach
 * (SERVICE_UNAVAILABLE, retryable), mapped in this one place.
 */
export function mapPrismaError(error: unknown): DomainError | undefined {
  if (databaseUnavailable(error)) return new ServiceUnavailableError();
  if (error instanceof pg.DatabaseError)
    return error.code === FOREIGN_KEY_VIOLATION ? badUserInput(NO_REFERENCED_RECORD) : undefined;
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

/** SQLSTATE foreign_key_violation, as node-postgres reports it (statements on the pool). */
const FOREIGN_KEY_VIOLATION = '23503';

/** The foreign key a raw statement ($queryRaw, or one on the pool) violated, if that is why it failed. */
export function violatedForeignKey(error: unknown): string | undefined {
  if (error instanceof pg.DatabaseError)
    return error.code === FOREIGN_KEY_VIOLATION ? error.constraint : undefined;
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2010')
    return undefined;
  const cause = (
    error.meta?.driverAdapterError as
      { cause?: { kind?: string; constraint?: { index?: string } } } | undefined
  )?.cause;
  return cause?.kind === 'ForeignKeyConstraintViolation' ? cause.constraint?.index : undefined;
}

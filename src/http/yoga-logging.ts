// yoga's logger on our pino logger. Expected failures (domain errors, and GraphQL errors all
// the way down: bad input, auth, not found) are the caller's, not ours: logged at debug;
// maskError logs the unexpected ones. PostgreSQL away is no fault of the request either, and
// each request refused for it would log it again: one warning every UNAVAILABLE_LOG_MS, the
// rest at debug.
import { GraphQLError } from 'graphql';
import { databaseUnavailable, DomainError } from '../platform/errors.js';
import { logger } from '../platform/logger.js';

const yogaLog = logger.child({ module: 'yoga' });

const isClientError = (value: unknown) =>
  value instanceof DomainError ||
  (value instanceof GraphQLError &&
    (!value.originalError ||
      value.originalError instanceof GraphQLError ||
      value.originalError instanceof DomainError));

type LogArgs = unknown[];

const UNAVAILABLE_LOG_MS = 10_000;
let unavailableLoggedAt = -Infinity;

const isUnavailable = (value: unknown) =>
  databaseUnavailable(value instanceof GraphQLError ? (value.originalError ?? value) : value);

function logError(args: LogArgs): void {
  if (isClientError(args[0])) return yogaLog.debug(args[0] as object, ...(args.slice(1) as []));
  if (isUnavailable(args[0])) {
    const now = performance.now();
    if (now - unavailableLoggedAt < UNAVAILABLE_LOG_MS)
      return yogaLog.debug({ err: (args[0] as Error).message }, 'refused: PostgreSQL away');
    unavailableLoggedAt = now;
    return yogaLog.warn(
      { err: (args[0] as Error).message },
      'PostgreSQL is out of reach: requests are refused with SERVICE_UNAVAILABLE',
    );
  }
  yogaLog.error(args[0] as object, ...(args.slice(1) as []));
}

export const yogaLogger = {
  debug: (...args: LogArgs) => yogaLog.debug(args[0] as object, ...(args.slice(1) as [])),
  info: (...args: LogArgs) => yogaLog.info(args[0] as object, ...(args.slice(1) as [])),
  warn: (...args: LogArgs) => yogaLog.warn(args[0] as object, ...(args.slice(1) as [])),
  error: (...args: LogArgs) => logError(args),
};

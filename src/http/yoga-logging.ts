// yoga's logger on our pino logger. Expected failures (domain errors, and GraphQL errors all
// the way down: bad input, auth, not found) are the caller's, not ours: logged at debug;
// maskError logs the unexpected ones.
import { GraphQLError } from 'graphql';
import { DomainError } from '../platform/errors.js';
import { logger } from '../platform/logger.js';

const yogaLog = logger.child({ module: 'yoga' });

const isClientError = (value: unknown) =>
  value instanceof DomainError ||
  (value instanceof GraphQLError &&
    (!value.originalError ||
      value.originalError instanceof GraphQLError ||
      value.originalError instanceof DomainError));

type LogArgs = unknown[];

export const yogaLogger = {
  debug: (...args: LogArgs) => yogaLog.debug(args[0] as object, ...(args.slice(1) as [])),
  info: (...args: LogArgs) => yogaLog.info(args[0] as object, ...(args.slice(1) as [])),
  warn: (...args: LogArgs) => yogaLog.warn(args[0] as object, ...(args.slice(1) as [])),
  error: (...args: LogArgs) =>
    (isClientError(args[0]) ? yogaLog.debug : yogaLog.error).call(
      yogaLog,
      args[0] as object,
      ...(args.slice(1) as []),
    ),
};

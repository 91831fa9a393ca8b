// What a task type is: a payload parser and a handler `(payload, helpers)`, as in
// graphile-worker; helpers carry a task-scoped logger, an AbortSignal and reportProgress.
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import type { TaskRow } from './sql/task-row.js';

export interface TaskHelpers {
  task: TaskRow;
  logger: Logger;
  /** Aborted on cancellation, timeout, lost lease or shutdown: stop promptly. */
  signal: AbortSignal;
  /** Coalesced: at most a few writes per second reach the database and subscribers. */
  reportProgress(percent: number, step: string): void;
  pubsub: PubSub;
}

export interface TaskDefinition<Payload = unknown> {
  type: string;
  /** Throws NonRetryableError for a payload that can never succeed. */
  parsePayload(payload: unknown): Payload;
  run(payload: Payload, helpers: TaskHelpers): Promise<unknown>;
  timeoutSeconds: number;
  maxAttempts: number;
}

/** A failure that retrying cannot fix (bad payload, the subject is gone): FAILED at once. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

export function defineTask<Payload>(definition: TaskDefinition<Payload>): TaskDefinition<Payload> {
  return definition;
}

/** A payload parser from a zod schema: an invalid payload can never succeed (NonRetryableError). */
export function payloadParser<Schema extends z.ZodType>(schema: Schema) {
  return (payload: unknown): z.infer<Schema> => {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new NonRetryableError(`bad payload: ${parsed.error.message}`);
    return parsed.data;
  };
}

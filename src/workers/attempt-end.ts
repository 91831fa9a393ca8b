// How an attempt's end is recorded, by why it stopped: completed (its result), cancelled or
// timed out (terminal), or a failure: FAILED when retrying cannot help (NonRetryableError),
// else a retry after backoff, or DEAD once its attempts are spent (decided in SQL); a run that
// PostgreSQL's absence broke is retried within the lost-lease budget instead, and one that asked
// to run later (RetryLaterError: what it waits on is unavailable for a while) after that wait,
// within the budget of postponements (write-changes.ts), as BullMQ's RateLimitError moves a job
// back without spending its attempts.
// A lost lease and a shutdown write nothing here (attempt-runner.ts).
import { databaseUnavailable } from '../platform/errors.js';
import { NonRetryableError, RetryLaterError } from '../queue/task-definition.js';
import { writableResult, writableText } from '../platform/storable.js';
import { attemptsSpent } from '../queue/task-row.js';
import type { RunningTask } from './running-tasks.js';
import type { AttemptEndChange } from './turn-types.js';

const DATABASE_UNAVAILABLE = 'the database was unavailable while it ran';

/** The wait before the retry that follows attempt `attempt` (1-based), as the schedule says. */
export const scheduledDelayMs = (schedule: readonly number[] | undefined, attempt: number) =>
  schedule?.length ? schedule[Math.min(attempt, schedule.length) - 1]! : null;

export function endChangeOf(
  entry: RunningTask,
  error: unknown,
  retryDelaysMs?: readonly number[],
): AttemptEndChange {
  const { task } = entry;
  // Literals whole (no spread of shared fields): this runs once per task.
  const taskId = task.id;
  const attempt = task.attempts;
  if (error === undefined) {
    const stored = writableResult(entry.result);
    if ('value' in stored)
      return { taskId, attempt, kind: 'COMPLETED', result: stored.value, message: 'completed' };
    // The same handler would return the same: no retry.
    const message = `its result cannot be stored as JSON: ${writableText(stored.error)}`;
    return { taskId, attempt, kind: 'FAILED', error: message, message: `failed: ${message}` };
  }
  if (entry.reason === 'cancelled') {
    const message = 'cancelled while running';
    return { taskId, attempt, kind: 'CANCELLED', error: message, message };
  }
  if (entry.reason === 'timeout') {
    const message = `timed out after ${task.timeoutSeconds} s`;
    return { taskId, attempt, kind: 'TIMEOUT', error: message, message };
  }
  const message = errorText(error);
  if (error instanceof NonRetryableError)
    return { taskId, attempt, kind: 'FAILED', error: message, message: `failed: ${message}` };
  // PostgreSQL went away under the run: no fault of the task, so not one of its attempts.
  if (databaseUnavailable(error))
    return { taskId, attempt, kind: 'RETRY', error: DATABASE_UNAVAILABLE, interrupted: true };
  // No fault of the task: once what it waits on passes, and the schedule does not move.
  if (error instanceof RetryLaterError)
    return {
      taskId,
      attempt,
      kind: 'RETRY',
      error: message,
      delayMs: error.delayMs,
      postponed: true,
    };
  // Counted as the SQL backoff counts: attempts whose lease was lost, or that were postponed,
  // do not move the schedule.
  const delayMs = scheduledDelayMs(retryDelaysMs, attemptsSpent(task));
  return { taskId, attempt, kind: 'RETRY', error: message, delayMs };
}

/** What a handler threw, as text PostgreSQL stores (src/platform/storable.ts). */
function errorText(error: unknown): string {
  try {
    return writableText(error instanceof Error ? String(error.message) : String(error));
  } catch {
    // An object without a string form (no prototype, or a toString that throws).
    return 'the handler threw a value that has no text';
  }
}

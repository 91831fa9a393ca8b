// How an attempt's end is recorded, by why it stopped: completed (its result), cancelled or
// timed out (terminal), or a failure: FAILED when retrying cannot help (NonRetryableError),
// else a retry after backoff, or DEAD once its attempts are spent (decided in SQL).
// A lost lease and a shutdown write nothing here (attempt-runner.ts).
import { NonRetryableError } from '../queue/task-definition.js';
import type { RunningTask } from './running-tasks.js';
import type { AttemptEndChange } from './turns.js';

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
  if (error === undefined)
    return {
      taskId,
      attempt,
      kind: 'COMPLETED',
      result: entry.result ?? null,
      message: 'completed',
    };
  if (entry.reason === 'cancelled') {
    const message = 'cancelled while running';
    return { taskId, attempt, kind: 'CANCELLED', error: message, message };
  }
  if (entry.reason === 'timeout') {
    const message = `timed out after ${task.timeoutSeconds} s`;
    return { taskId, attempt, kind: 'TIMEOUT', error: message, message };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NonRetryableError)
    return { taskId, attempt, kind: 'FAILED', error: message, message: `failed: ${message}` };
  // Counted as the SQL backoff counts: attempts whose lease was lost do not move the schedule.
  const delayMs = scheduledDelayMs(retryDelaysMs, attempt - task.leaseLosses);
  return { taskId, attempt, kind: 'RETRY', error: message, delayMs };
}

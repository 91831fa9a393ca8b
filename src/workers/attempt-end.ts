// How an attempt that did not complete is recorded, by why it stopped: cancelled or timed
// out (terminal), its lease lost (another worker owns the task: nothing to write), handed
// back at shutdown, or a failure (FAILED when it cannot pass, else a retry or dead letter).
import { db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { PubSub } from '../platform/pubsub.js';
import type { AttemptOutcome } from './metrics.js';
import type { TaskOutcomeOf } from '../queue/finish.js';
import { handBackTask } from '../queue/hand-back-task.js';
import { scheduleRetryOrDeadLetter } from '../queue/schedule-retry.js';
import { announceTaskEvent } from '../queue/signals.js';
import { isTerminal, type TaskRow } from '../queue/task-row.js';
import type { RunningTask } from './running-tasks.js';
import { NonRetryableError } from './task-registry.js';

/** `finished`: the task reached a terminal status. Otherwise `outcome` says what became of it. */
export interface AttemptEnd {
  finished?: TaskRow;
  outcome?: AttemptOutcome;
}

export interface AttemptEndOptions {
  workerId: string;
  pubsub: PubSub;
  backoff: { baseMs: number; maxMs: number };
  finish(outcome: TaskOutcomeOf): Promise<TaskRow | undefined>;
  log: Logger;
}

export async function endedAttempt(
  entry: RunningTask,
  error: unknown,
  options: AttemptEndOptions,
): Promise<AttemptEnd> {
  const { task } = entry;
  const { finish } = options;
  switch (entry.reason) {
    case 'cancelled':
      return {
        finished: await finish({
          taskId: task.id,
          attempt: task.attempts,
          status: 'CANCELLED',
          error: 'cancelled while running',
          message: 'cancelled while running',
        }),
      };
    case 'timeout': {
      const message = `timed out after ${task.timeoutSeconds} s`;
      return {
        finished: await finish({
          taskId: task.id,
          attempt: task.attempts,
          status: 'TIMEOUT',
          error: message,
          message,
        }),
      };
    }
    case 'lease-lost':
      options.log.warn('lease lost: another worker owns the task now; dropping this attempt');
      return {};
    case 'shutdown':
      return handBack(task, options);
    default:
      return failed(task, error, options);
  }
}

/** Back to PENDING for another worker; the attempt does not count. */
async function handBack(task: TaskRow, options: AttemptEndOptions): Promise<AttemptEnd> {
  if (!(await handBackTask(db(), task.id, options.workerId))) return {};
  const row = await db().task.findUnique({
    where: { id: task.id },
    select: { id: true, lastSequence: true },
  });
  if (row) await announceTaskEvent(options.pubsub, row);
  return { outcome: 'handed_back' };
}

async function failed(
  task: TaskRow,
  error: unknown,
  options: AttemptEndOptions,
): Promise<AttemptEnd> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NonRetryableError) {
    return {
      finished: await options.finish({
        taskId: task.id,
        attempt: task.attempts,
        status: 'FAILED',
        error: message,
        message: `failed: ${message}`,
      }),
    };
  }
  options.log.warn({ err: error }, 'attempt failed');
  const { baseMs, maxMs } = options.backoff;
  const row = await scheduleRetryOrDeadLetter(
    db(),
    task.id,
    options.workerId,
    message,
    baseMs,
    maxMs,
  );
  if (!row) return {};
  if (isTerminal(row.status)) return { finished: row };
  await announceTaskEvent(options.pubsub, row);
  return { outcome: 'retry' };
}

// What the API tells about the queue: statistics, a pending task's place, and when a task
// should be done.
import type { TaskStatus } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { selectQueuePosition } from '../../queue/queue-position.js';
import { selectQueueStats } from '../../queue/queue-stats.js';
import { selectRecentDurationMs } from '../../queue/recent-duration.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds } from '../auth/permissions.js';

/** A worker counts as alive while its heartbeat is this recent. */
export const WORKER_ALIVE_WITHIN_MS = 15_000;

export const queuePosition = (taskId: string) => selectQueuePosition(db(), taskId);

/**
 * The queue's counts: of the tasks of the teams the caller reads (the operator, and /metrics
 * without a caller: every task). The workers alive are the service's, shared by every team.
 */
export async function queueStats(caller?: Pick<Caller, 'isOperator' | 'roles'>) {
  const teams = caller ? readableTeamIds(caller) : undefined;
  const stats = await selectQueueStats(db(), WORKER_ALIVE_WITHIN_MS, teams);
  return {
    ...stats,
    byPriority: { HIGH: stats.pendingHigh, MEDIUM: stats.pendingMedium, LOW: stats.pendingLow },
  };
}

export interface EstimatedTask {
  id: string;
  type: string;
  status: TaskStatus;
  startedAt: Date | null;
  progressPercent: number;
  timeoutSeconds: number;
}

/**
 * When the task should be done: from the mean run time of recent tasks of its type (a tenth
 * of its timeout before there are any); a pending task waits for the tasks ahead of it spread
 * over the live workers' slots.
 */
export async function estimateCompletion(task: EstimatedTask) {
  if (task.status !== 'PENDING' && task.status !== 'RUNNING') return null;
  const duration = (await selectRecentDurationMs(db(), task.type)) ?? task.timeoutSeconds * 100;
  if (task.status === 'RUNNING') {
    const started = task.startedAt?.getTime() ?? Date.now();
    const elapsed = Date.now() - started;
    const byProgress = task.progressPercent > 5 ? (elapsed * 100) / task.progressPercent : duration;
    return new Date(started + Math.max(elapsed, byProgress));
  }
  const [position, slots] = await Promise.all([
    selectQueuePosition(db(), task.id),
    db().worker.aggregate({
      _sum: { concurrency: true },
      where: {
        lastHeartbeatAt: { gt: new Date(Date.now() - WORKER_ALIVE_WITHIN_MS) },
        stoppedAt: null,
      },
    }),
  ]);
  const capacity = Math.max(1, slots._sum.concurrency ?? 1);
  return new Date(Date.now() + Math.ceil((position ?? 1) / capacity) * duration + duration);
}

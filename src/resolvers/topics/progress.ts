// The topic row as its generation moves (seed 004 /status: status, progress_percent,
// current_step, started_at, estimated_completion, completed_at, error_message). Every
// write is guarded by the topic's current task, so a superseded or late run never
// overwrites a newer one, and is announced on `topicUpdated` (a signal; subscribers
// read the row).
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { TaskRow } from '../../queue/task-row.js';
import { failStuckTopics } from './sql/topic-fail-stuck.js';
import { invalidateCachedResponses } from '../../platform/response-cache/invalidation.js';

/** After every committed change of a topic: its cached answers go, and its watchers are told. */
export async function publishTopicUpdated(pubsub: PubSub, topicId: string): Promise<void> {
  await invalidateCachedResponses([{ type: 'Topic', rowId: topicId }]);
  await pubsub.publish('topicUpdated', topicId, { topicId });
}

/** The run (re)starts: GENERATING again (also after an operator's retry of a failed task). */
export async function startTopicRun(
  topicId: string,
  taskId: string,
  pubsub: PubSub,
): Promise<boolean> {
  const { count } = await db().topic.updateMany({
    where: { id: topicId, taskId },
    data: {
      status: 'GENERATING',
      progressPercent: 0,
      currentStep: 'starting',
      completedAt: null,
      errorMessage: null,
      draftSection: null,
      draftText: null,
    },
  });
  if (count) await publishTopicUpdated(pubsub, topicId);
  return count > 0;
}

/** A step of the run; false when the topic is no longer this task's to write. */
export async function recordTopicStep(
  topicId: string,
  taskId: string,
  step: { progressPercent: number; currentStep: string; estimatedCompletion?: Date },
  pubsub: PubSub,
): Promise<boolean> {
  const { count } = await db().topic.updateMany({
    where: { id: topicId, taskId, status: 'GENERATING' },
    data: step,
  });
  if (count) await publishTopicUpdated(pubsub, topicId);
  return count > 0;
}

export async function failTopicRun(
  topicId: string,
  taskId: string,
  message: string,
  pubsub: PubSub,
): Promise<boolean> {
  const { count } = await db().topic.updateMany({
    where: { id: topicId, taskId, status: 'GENERATING' },
    data: {
      status: 'FAILED',
      errorMessage: message.slice(0, 2_000),
      currentStep: 'failed',
      completedAt: new Date(),
      estimatedCompletion: null,
    },
  });
  if (count) await publishTopicUpdated(pubsub, topicId);
  return count > 0;
}

function endMessage(task: Pick<TaskRow, 'status' | 'error'>): string {
  if (task.status === 'CANCELLED') return 'generation cancelled';
  return task.error ?? `generation ${task.status.toLowerCase()}`;
}

/**
 * report_generation's after-finish step: a report task that ended FAILED, DEAD, TIMEOUT or
 * CANCELLED fails its topic, so it never stays GENERATING (the handler cannot always say so
 * itself: a timeout or cancel stops it).
 */
export async function failTopicOfEndedTask(
  task: Pick<TaskRow, 'id' | 'status' | 'error' | 'topicId'>,
  pubsub: PubSub,
): Promise<void> {
  if (!task.topicId || task.status === 'COMPLETED') return;
  // Never in the way of what follows the hook (webhooks): the periodic sweep retries.
  await failTopicRun(task.topicId, task.id, endMessage(task), pubsub).catch((err) =>
    logger.warn(
      { err: (err as Error).message, taskId: task.id },
      'could not fail the topic of a finished report task',
    ),
  );
}

/** Fails the topic if its generation is GENERATING with a task that ended; true when it did. */
export async function reconcileTopic(topicId: string, pubsub: PubSub): Promise<boolean> {
  const rows = await failStuckTopics(db(), topicId);
  for (const row of rows) await publishTopicUpdated(pubsub, row.id);
  return rows.length > 0;
}

/** The workers' periodic sweep (their maintenance, src/workers/index.ts). */
export async function reconcileStuckTopics(pubsub: PubSub): Promise<number> {
  const rows = await failStuckTopics(db(), null);
  for (const row of rows) await publishTopicUpdated(pubsub, row.id);
  if (rows.length)
    logger.warn({ topics: rows.length }, 'failed topics whose generation task had ended');
  return rows.length;
}

// The topic row as its generation moves. Every
// write is guarded by the topic's current task, so a superseded or late run never
// overwrites a newer one, and is announced on `topicUpdated` (a signal; subscribers
// read the row).
import { db, type Transaction } from '../../platform/db.js';
import { completeTopicsOfTasks } from './artifacts.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { ClaimedTaskRow } from '../../queue/task-row.js';
import { failStuckTopics } from './sql/topic-fail-stuck.js';
import { announceChanges } from '../../platform/changes.js';

/** After every committed change of a topic: its cached answers go, and its watchers are told. */
export async function publishTopicUpdated(pubsub: PubSub, topicId: string): Promise<void> {
  await announceChanges({ kind: 'topic.changed', topicId });
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
    data: failedTopic(message),
  });
  if (count) await publishTopicUpdated(pubsub, topicId);
  return count > 0;
}

function failedTopic(message: string) {
  return {
    status: 'FAILED' as const,
    errorMessage: message.slice(0, 2_000),
    currentStep: 'failed',
    completedAt: new Date(),
    estimatedCompletion: null,
  };
}

function endMessage(task: Pick<ClaimedTaskRow, 'status' | 'error'>): string {
  if (task.status === 'CANCELLED') return 'generation cancelled';
  if ((task.status === 'FAILED' || task.status === 'DEAD') && task.error)
    return `report generation failed: ${task.error}`;
  return task.error ?? `generation ${task.status.toLowerCase()}`;
}

/**
 * report_generation's step inside the transaction that records its tasks' ends: each topic
 * still run by one of them ends with it, COMPLETED or FAILED, in the same commit.
 */
export async function endTopicsOfTasks(
  finished: readonly ClaimedTaskRow[],
  tx: Transaction,
  pubsub: PubSub,
): Promise<void> {
  const completed = finished.filter((task) => task.status === 'COMPLETED').map((task) => task.id);
  const ended = completed.length ? await completeTopicsOfTasks(tx.client, completed) : [];
  for (const task of finished) {
    if (task.status === 'COMPLETED' || !task.topicId) continue;
    const { count } = await tx.client.topic.updateMany({
      where: { id: task.topicId, taskId: task.id, status: 'GENERATING' },
      data: failedTopic(endMessage(task)),
    });
    if (count) ended.push(task.topicId);
  }
  tx.afterCommit(() => {
    for (const topicId of ended)
      publishTopicUpdated(pubsub, topicId).catch((err) =>
        logger.warn({ err: (err as Error).message, topicId }, 'could not announce a topic'),
      );
  });
}

/**
 * report_generation's after-finish step: a report task that ended FAILED, DEAD, TIMEOUT or
 * CANCELLED fails its topic, so it never stays GENERATING (the handler cannot always say so
 * itself: a timeout or cancel stops it).
 */
export async function failTopicOfEndedTask(
  task: Pick<ClaimedTaskRow, 'id' | 'status' | 'error' | 'topicId'>,
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

// A topic's generation as topicGeneration sends it (seed 004 /status/stream): status
// updates while generating, then one completion event (completed or failed). Read from the
// topic row, the truth; the live feed (src/feeds/state-feed.ts) calls this on every change.
import type { TopicStatus } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import type { PubSub } from '../../platform/pubsub.js';
import { isTerminal } from '../../queue/task-row.js';
import { reconcileTopic } from './progress.js';

export interface TopicGenerationEvent {
  event: 'status_update' | 'completion';
  topicId: string;
  status: TopicStatus;
  progressPercent: number;
  currentStep: string | null;
  errorMessage: string | null;
}

const ENDED = new Set<TopicStatus>(['COMPLETED', 'FAILED']);

const STATE = {
  id: true,
  status: true,
  progressPercent: true,
  currentStep: true,
  errorMessage: true,
  taskId: true,
  task: { select: { status: true } },
} as const;

/** The topic's generation now; null once the topic is gone. */
export async function readTopicGeneration(
  topicId: string,
  pubsub: PubSub,
): Promise<TopicGenerationEvent | null> {
  let row = await db().topic.findUnique({ where: { id: topicId }, select: STATE });
  // A generation whose task ended without saying so (cancelled while pending, dead-lettered
  // by a lease reclaim): the topic is failed here rather than left GENERATING.
  if (
    row?.status === 'GENERATING' &&
    (!row.task || (isTerminal(row.task.status) && row.task.status !== 'COMPLETED'))
  ) {
    if (await reconcileTopic(topicId, pubsub))
      row = await db().topic.findUnique({ where: { id: topicId }, select: STATE });
  }
  if (!row) return null;
  return {
    event: ENDED.has(row.status) ? 'completion' : 'status_update',
    topicId: row.id,
    status: row.status,
    progressPercent: row.progressPercent,
    currentStep: row.currentStep,
    errorMessage: row.errorMessage,
  };
}

/** What tells two generation states apart (an unchanged one is not sent twice). */
export const topicGenerationVersion = (state: TopicGenerationEvent) =>
  `${state.status}|${state.progressPercent}|${state.currentStep}|${state.errorMessage}`;

export const isGenerationEnd = (state: TopicGenerationEvent) => state.event === 'completion';

// A topic's generation as topicGeneration sends it: status
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
  /** The section being written and its text so far (while GENERATING). */
  draft: { order: number; text: string } | null;
}

const ENDED = new Set<TopicStatus>(['COMPLETED', 'FAILED']);

const STATE = {
  id: true,
  status: true,
  progressPercent: true,
  currentStep: true,
  errorMessage: true,
  taskId: true,
  draftSection: true,
  draftText: true,
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
    draft:
      row.status === 'GENERATING' && row.draftSection !== null
        ? { order: row.draftSection, text: row.draftText ?? '' }
        : null,
  };
}

/** What tells two generation states apart (an unchanged one is not sent twice). */
export const topicGenerationVersion = (state: TopicGenerationEvent) =>
  `${state.status}|${state.progressPercent}|${state.currentStep}|${state.errorMessage}|` +
  `${state.draft?.order}|${state.draft?.text.length}|${state.draft?.text.slice(-32)}`;

/** A draft as one subscriber sees it: the text so far, and what is new since its last event. */
export interface DraftView {
  order: number;
  text: string;
  delta: string;
  /** The text does not continue the last one seen (a new section, or a restarted stream). */
  restarted: boolean;
}

/** Per subscriber: turns each event's draft into its view (the first one's delta is all the text so far). */
export function draftDeltas(): (
  event: TopicGenerationEvent,
) => TopicGenerationEvent & { draftView: DraftView | null } {
  let last: { order: number; text: string } | null = null;
  return (event) => {
    const draft = event.draft;
    if (!draft) return { ...event, draftView: null };
    const continues =
      last !== null && last.order === draft.order && draft.text.startsWith(last.text);
    const view = {
      order: draft.order,
      text: draft.text,
      delta: continues ? draft.text.slice(last!.text.length) : draft.text,
      restarted: last !== null && last.order === draft.order && !continues,
    };
    last = draft;
    return { ...event, draftView: view };
  };
}

export const isGenerationEnd = (state: TopicGenerationEvent) => state.event === 'completion';

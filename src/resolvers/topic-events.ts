// The feed behind topicGeneration (seed 004 /status/stream): the current state first,
// status updates while generating, then one completion event (completed or failed), then
// the end. Built like the task feed: the topic row is the truth and `topicUpdated` only
// says "read again"; a 1 s poll covers lost notifications (Redis pub/sub is at-most-once).
// One hub per pub/sub per process: one subscription and one read per change per topic,
// however many clients follow it.
import { db } from '../db.js';
import type { TopicStatus } from '../generated/prisma/enums.js';
import type { PubSub } from '../pubsub.js';
import { isTerminal } from '../workers/sql/task-row.js';
import { reconcileTopic } from './topic-progress.js';
import { WatchHub } from './watch-hub.js';

export interface TopicGenerationEvent {
  event: 'status_update' | 'completion';
  topicId: string;
  status: TopicStatus;
  progressPercent: number;
  currentStep: string | null;
  errorMessage: string | null;
}

type TopicState = Omit<TopicGenerationEvent, 'event'>;

const ENDED = new Set<TopicStatus>(['COMPLETED', 'FAILED']);

async function readState(topicId: string, pubsub: PubSub): Promise<TopicState | null> {
  const select = {
    id: true,
    status: true,
    progressPercent: true,
    currentStep: true,
    errorMessage: true,
    taskId: true,
    task: { select: { status: true } },
  } as const;
  let row = await db().topic.findUnique({ where: { id: topicId }, select });
  // A generation whose task ended without saying so (cancelled while pending, dead-lettered
  // by a lease reclaim): the topic is failed here rather than left GENERATING.
  if (row?.status === 'GENERATING' && (!row.task || (isTerminal(row.task.status) && row.task.status !== 'COMPLETED'))) {
    if (await reconcileTopic(topicId, pubsub)) row = await db().topic.findUnique({ where: { id: topicId }, select });
  }
  if (!row) return null;
  return { topicId: row.id, status: row.status, progressPercent: row.progressPercent, currentStep: row.currentStep, errorMessage: row.errorMessage };
}

export class TopicFeedHub {
  private readonly hub: WatchHub<TopicState | null>;

  constructor(pubsub: PubSub, pollMs = 1_000) {
    this.hub = new WatchHub<TopicState | null>({ pubsub, topic: 'topicUpdated', pollMs, read: (topicId) => readState(topicId, pubsub) });
  }

  /** Followed topics (for tests). */
  get size(): number {
    return this.hub.size;
  }

  /**
   * The current state, each change of it, and the end after COMPLETED or FAILED. Its
   * return() (the client went away) takes effect at once, not at the next change: an
   * async generator waiting inside an await would only see it at its next yield.
   */
  follow(topicId: string): AsyncGenerator<TopicGenerationEvent> {
    const stop = new AbortController();
    const inner = this.events(topicId, stop.signal);
    const outer: AsyncGenerator<TopicGenerationEvent> = {
      next: () => inner.next(),
      return: (value) => {
        stop.abort();
        return inner.return(value);
      },
      throw: (error) => {
        stop.abort();
        return inner.throw(error);
      },
      [Symbol.asyncIterator]: () => outer,
    } as AsyncGenerator<TopicGenerationEvent>;
    return outer;
  }

  private async *events(topicId: string, stopped: AbortSignal): AsyncGenerator<TopicGenerationEvent> {
    const queue: Array<TopicState | null> = [];
    let wake: (() => void) | undefined;
    stopped.addEventListener('abort', () => wake?.(), { once: true });
    // Listen (and wait until the subscription is live) before reading, so nothing written in
    // between is missed; every state comes from the hub's serialised reads, in order.
    const watch = this.hub.listen(topicId, {
      deliver: (state) => {
        queue.push(state);
        wake?.();
      },
    });
    try {
      await watch.live;
      void watch.refresh();
      let last: string | undefined;
      for (;;) {
        while (queue.length) {
          const state = queue.shift();
          if (!state) return; // the topic was deleted
          const key = `${state.status}|${state.progressPercent}|${state.currentStep}|${state.errorMessage}`;
          if (key === last) continue;
          last = key;
          const ended = ENDED.has(state.status);
          yield { event: ended ? 'completion' : 'status_update', ...state };
          if (ended) return;
        }
        if (stopped.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (queue.length) resolve();
        });
        wake = undefined;
        if (stopped.aborted) return;
      }
    } finally {
      watch.stop();
    }
  }
}

const hubs = new WeakMap<PubSub, TopicFeedHub>();

/** The hub of this process for a pub/sub (the API's, or a test's). */
export function topicFeed(pubsub: PubSub): TopicFeedHub {
  let hub = hubs.get(pubsub);
  if (!hub) hubs.set(pubsub, (hub = new TopicFeedHub(pubsub)));
  return hub;
}

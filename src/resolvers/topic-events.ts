// The feed behind topicGeneration (seed 004 /status/stream): the current state first,
// status updates while generating, then one completion event (completed or failed), then
// the end. Built like the task feed: the topic row is the truth and `topicUpdated` only
// says "read again"; a 1 s poll covers lost notifications (Redis pub/sub is at-most-once).
// One hub per pub/sub per process: one subscription and one read per change per topic,
// however many clients follow it.
import { db } from '../db.js';
import type { TopicStatus } from '../generated/prisma/enums.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { isTerminal } from '../workers/sql/task-row.js';
import { reconcileTopic } from './topic-progress.js';

export interface TopicGenerationEvent {
  event: 'status_update' | 'completion';
  topicId: string;
  status: TopicStatus;
  progressPercent: number;
  currentStep: string | null;
  errorMessage: string | null;
}

type TopicState = Omit<TopicGenerationEvent, 'event'>;
type Listener = (state: TopicState | null) => void;

interface Watch {
  topicId: string;
  listeners: Set<Listener>;
  reading?: Promise<void>;
  readAgain: boolean;
  stopNotifications: () => void;
  /** The pub/sub subscription is live (or the wait for it is over: the poll covers the rest). */
  live: Promise<void>;
}

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
  private readonly watches = new Map<string, Watch>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly pubsub: PubSub,
    private readonly pollMs = 1_000,
  ) {}

  /** Followed topics (for tests). */
  get size(): number {
    return this.watches.size;
  }

  private watch(topicId: string): Watch {
    let watch = this.watches.get(topicId);
    if (watch) return watch;
    const notifications = this.pubsub.subscribe('topicUpdated', topicId);
    // Redis down: `ready` gives up after a second; the poll covers the rest.
    const live = notifications.ready.catch(() => undefined);
    const created: Watch = { topicId, listeners: new Set(), readAgain: false, stopNotifications: () => void notifications.return?.(), live };
    this.watches.set(topicId, created);
    void (async () => {
      for await (const _ of notifications) void this.read(created);
    })().catch(() => {});
    // The poll runs only while someone follows a topic: nothing to close otherwise.
    this.poller ??= setInterval(() => {
      for (const each of this.watches.values()) void this.read(each);
    }, this.pollMs).unref();
    return created;
  }

  /** One read at a time per topic; a change during a read triggers one more. */
  private read(watch: Watch): Promise<void> {
    if (watch.reading) {
      watch.readAgain = true;
      return watch.reading;
    }
    watch.reading = (async () => {
      do {
        watch.readAgain = false;
        const state = await readState(watch.topicId, this.pubsub);
        for (const listener of watch.listeners) listener(state);
      } while (watch.readAgain);
    })()
      .catch((err) => logger.warn({ err: (err as Error).message, topicId: watch.topicId }, 'topic read failed; the poll retries'))
      .finally(() => {
        watch.reading = undefined;
      });
    return watch.reading;
  }

  private unlisten(watch: Watch, listener: Listener) {
    watch.listeners.delete(listener);
    if (watch.listeners.size === 0 && this.watches.get(watch.topicId) === watch) {
      this.watches.delete(watch.topicId);
      watch.stopNotifications();
    }
    if (this.watches.size === 0 && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
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
    const listener: Listener = (state) => {
      queue.push(state);
      wake?.();
    };
    stopped.addEventListener('abort', () => wake?.(), { once: true });
    // Listen (and wait until the subscription is live) before reading, so nothing written in
    // between is missed; every state comes from the hub's serialised reads, in order.
    const watch = this.watch(topicId);
    watch.listeners.add(listener);
    try {
      await watch.live;
      void this.read(watch);
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
      this.unlisten(watch, listener);
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

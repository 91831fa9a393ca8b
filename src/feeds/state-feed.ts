// Feeds of a row's state (a topic's generation, an agent): the state now, then each change
// of it, until a final state or until the row is gone. Built like the task feed: the row is
// the truth and the notification only says "read again"; a poll covers lost notifications
// (Redis pub/sub is at-most-once). One StateFeed per topic and API process: one subscription
// and one read per change per key, however many clients follow it. What a state is, how to
// read it and when it is final are given by the domain that owns the row.
import type { PubSub, PubSubTopics } from '../platform/pubsub.js';
import { pushFeed, type FeedObserver, type PushFeed } from './push-feed.js';
import { WatchHub, type WatchHandle, type WatchListener } from './watch-hub.js';

export interface StateFeedOptions<State> {
  pubsub: PubSub;
  /** The notifications that say a key's row changed. */
  topic: keyof PubSubTopics;
  /** The row's state now; null once it is gone (the feed ends). */
  read(key: string): Promise<State | null>;
  /** What tells two states apart: an unchanged state is not sent again. */
  version(state: State): string;
  /** The last state of a feed (sent, then the feed ends). */
  isFinal(state: State): boolean;
  pollMs?: number;
}

export class StateFeed<State> {
  private readonly hub: WatchHub<State | null>;

  constructor(private readonly options: StateFeedOptions<State>) {
    this.hub = new WatchHub<State | null>({
      pubsub: options.pubsub,
      topic: options.topic,
      pollMs: options.pollMs ?? 1_000,
      read: options.read,
    });
  }

  /** Followed keys (for tests). */
  get size(): number {
    return this.hub.size;
  }

  close(): void {
    this.hub.close();
  }

  /**
   * The current state, each change of it, and the end after a final state. Stopping takes
   * effect at once, not at the next change, so a client that leaves frees its listener.
   */
  follow(key: string): PushFeed<State> {
    return pushFeed((observer) => {
      const follower = new StateFollower(this.options, observer);
      // Listen (and wait until notifications are live) before reading, so nothing written in
      // between is missed; every state comes from the hub's serialised reads, in order.
      const watch = this.hub.listen(key, follower);
      follower.watching(watch);
      void watch.live.then(() => (follower.stopped ? undefined : watch.refresh()));
      return () => follower.stop();
    });
  }
}

class StateFollower<State> implements WatchListener<State | null> {
  stopped = false;
  private last: string | undefined;
  private watch: WatchHandle | undefined;

  constructor(
    private readonly options: StateFeedOptions<State>,
    private readonly observer: FeedObserver<State>,
  ) {}

  watching(watch: WatchHandle): void {
    this.watch = watch;
    if (this.stopped) watch.stop();
  }

  deliver(state: State | null): void {
    if (this.stopped) return;
    if (state === null) return this.end();
    const version = this.options.version(state);
    if (version === this.last) return;
    this.last = version;
    this.observer.next(state);
    if (this.options.isFinal(state)) this.end();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  private end(): void {
    this.stop();
    this.observer.complete();
  }
}

// What the task and topic feeds share: per followed key, one pub/sub subscription and at most
// one database read per change in this process, however many clients follow it. A
// notification says "read again" (Redis pub/sub is at-most-once); a poll covers lost
// ones. Reads of one key are serialised, so every listener sees updates in order. A
// notification that carries its update in full (see fromNotification) is delivered
// without a read when no read is under way.
import { logger } from '../platform/logger.js';
import type { PubSub, PubSubTopics } from '../platform/pubsub.js';

export interface WatchHubOptions<Topic extends keyof PubSubTopics, Update> {
  pubsub: PubSub;
  topic: Topic;
  pollMs: number;
  /** What changed for this key since its last read; undefined: nothing. */
  read(key: string): Promise<Update | undefined>;
  /**
   * The update a notification carries, when it is all that changed since the last read or
   * update (the hub then delivers it instead of reading); undefined: read.
   */
  fromNotification?(key: string, notification: PubSubTopics[Topic]): Update | undefined;
  /** The last listener of a key left (drop any per-key state). */
  onIdle?(key: string): void;
}

/**
 * Called with each update, in order. An object rather than a function: with thousands of
 * listeners per update, every object the delivery touches per listener is a likely cache
 * miss, and a closure is two (the function and its context) before any work is done.
 */
export interface WatchListener<Update> {
  deliver(update: Update): void;
}

export interface WatchHandle {
  /** Settles once notifications for the key are live, or when waiting was given up (the poll covers it). */
  live: Promise<void>;
  /** Reads now (serialised with the notification- and poll-driven reads). */
  refresh(): Promise<void>;
  stop(): void;
}

interface Watch<Update> {
  listeners: Set<WatchListener<Update>>;
  reading?: Promise<void>;
  readAgain: boolean;
  live: Promise<void>;
  stopNotifications(): void;
}

export class WatchHub<Update, Topic extends keyof PubSubTopics = keyof PubSubTopics> {
  private readonly watches = new Map<string, Watch<Update>>();
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly options: WatchHubOptions<Topic, Update>) {}

  /** Followed keys (for tests and metrics). */
  get size(): number {
    return this.watches.size;
  }

  listen(key: string, listener: WatchListener<Update>): WatchHandle {
    const watch = this.watch(key);
    watch.listeners.add(listener);
    return {
      live: watch.live,
      refresh: () => this.read(key, watch),
      stop: () => this.unlisten(key, listener),
    };
  }

  close(): void {
    clearInterval(this.poller);
    this.poller = undefined;
    for (const watch of this.watches.values()) watch.stopNotifications();
    this.watches.clear();
  }

  private watch(key: string): Watch<Update> {
    const existing = this.watches.get(key);
    if (existing) return existing;
    const notifications = this.options.pubsub.subscribe(this.options.topic, key);
    const watch: Watch<Update> = {
      listeners: new Set(),
      readAgain: false,
      live: notifications.ready.catch(() => undefined),
      stopNotifications: () => void notifications.return?.(),
    };
    this.watches.set(key, watch);
    void (async () => {
      for await (const notification of notifications) this.notified(key, watch, notification);
    })().catch(() => {});
    // The poll runs only while something is followed.
    this.poller ??= setInterval(() => {
      for (const [each, eachWatch] of this.watches) void this.read(each, eachWatch);
    }, this.options.pollMs).unref();
    return watch;
  }

  private notified(key: string, watch: Watch<Update>, notification: PubSubTopics[Topic]): void {
    // A read under way may still deliver updates older than this one: it reads again instead.
    const update = watch.reading ? undefined : this.options.fromNotification?.(key, notification);
    if (update === undefined) void this.read(key, watch);
    else this.deliver(key, watch, update);
  }

  /** One read at a time per key; a change during a read triggers one more. */
  private read(key: string, watch: Watch<Update>): Promise<void> {
    if (watch.reading) {
      watch.readAgain = true;
      return watch.reading;
    }
    watch.reading = (async () => {
      do {
        watch.readAgain = false;
        const update = await this.options.read(key);
        if (update !== undefined) this.deliver(key, watch, update);
      } while (watch.readAgain);
    })()
      .catch((err) =>
        logger.warn(
          { err: (err as Error).message, topic: this.options.topic, key },
          'read failed; the poll retries',
        ),
      )
      .finally(() => {
        watch.reading = undefined;
      });
    return watch.reading;
  }

  private deliver(key: string, watch: Watch<Update>, update: Update): void {
    for (const listener of watch.listeners) {
      // One listener failing must not keep the update from the others.
      try {
        listener.deliver(update);
      } catch (err) {
        logger.error({ err, topic: this.options.topic, key }, 'a listener failed');
      }
    }
  }

  /** Removes a listener (what its handle's stop() does, without the handle). */
  unlisten(key: string, listener: WatchListener<Update>): void {
    const watch = this.watches.get(key);
    if (!watch) return;
    watch.listeners.delete(listener);
    if (watch.listeners.size === 0 && this.watches.get(key) === watch) {
      this.watches.delete(key);
      watch.stopNotifications();
      this.options.onIdle?.(key);
    }
    if (this.watches.size === 0 && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }
}

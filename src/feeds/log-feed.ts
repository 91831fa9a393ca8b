// A live feed over an append-only log with a per-key sequence (a task's events, a workflow's).
// One WatchHub per process follows each key once; a notification says "read again", the log is
// read after the last sequence the hub has (or, when the notification carries the very next
// entry, that entry is delivered without a read), and each follower delivers in order from its
// own position, reading the log itself on a gap or a replay, so a resume with afterSequence is
// gap- and duplicate-free. Stopping takes effect at once, even while the log is quiet.
import type { PubSub, PubSubTopics } from '../platform/pubsub.js';
import { pushFeed, type FeedObserver, type PushFeed } from './push-feed.js';
import { WatchHub, type WatchListener } from './watch-hub.js';

export interface LogEntry {
  sequence: number;
}

export interface LogSource<Entry extends LogEntry, Topic extends keyof PubSubTopics> {
  topic: Topic;
  /** Where the log stands: its last sequence and whether it has ended (null: no such key). */
  position(key: string): Promise<{ lastSequence: number; ended: boolean } | null>;
  /** What a follower that names no sequence gets first (the state now, at `lastSequence`). */
  current(key: string): Promise<Entry | null>;
  /** Entries after `sequence`, in order; a full page (`page`) means there may be more. */
  after(key: string, sequence: number): Promise<Entry[]>;
  page: number;
  /** The entry after which the log ends (the follower completes). */
  isEnd(entry: Entry): boolean;
  /** The entry a notification carries, if any (delivered without a read when it is the next). */
  fromNotification?(key: string, notification: PubSubTopics[Topic]): Entry | undefined;
}

export class LogFeed<Entry extends LogEntry, Topic extends keyof PubSubTopics> {
  private readonly cursors = new Map<string, number>();
  private readonly hub: WatchHub<Entry[], Topic>;

  constructor(
    pubsub: PubSub,
    private readonly source: LogSource<Entry, Topic>,
    pollMs = 1_000,
  ) {
    this.hub = new WatchHub({
      pubsub,
      topic: source.topic,
      pollMs,
      read: (key) => this.readNew(key),
      fromNotification: source.fromNotification && ((key, n) => this.nextFrom(key, n)),
      onIdle: (key) => this.cursors.delete(key),
    });
  }

  /** The notification's entry, if it is the one after the last this hub delivered. */
  private nextFrom(key: string, notification: PubSubTopics[Topic]): Entry[] | undefined {
    const cursor = this.cursors.get(key);
    const entry = this.source.fromNotification!(key, notification);
    if (!entry || cursor === undefined || entry.sequence !== cursor + 1) return undefined;
    this.cursors.set(key, entry.sequence);
    return [entry];
  }

  close(): void {
    this.hub.close();
    this.cursors.clear();
  }

  /** Followed keys (for tests and metrics). */
  get size(): number {
    return this.hub.size;
  }

  private async readNew(key: string): Promise<Entry[] | undefined> {
    const entries: Entry[] = [];
    for (;;) {
      const page = await this.source.after(key, this.cursors.get(key) ?? 0);
      if (page.length) this.cursors.set(key, page.at(-1)!.sequence);
      entries.push(...page);
      if (page.length < this.source.page) break;
    }
    return entries.length ? entries : undefined;
  }

  /**
   * The state now (or every entry after `afterSequence`), then each new entry; ends after the
   * end. Live entries reach an observer synchronously, in the hub's delivery.
   */
  follow(key: string, afterSequence?: number | null): PushFeed<Entry> {
    return pushFeed((observer) => {
      const follower = new LogFollower(this.hub, this.source, key, observer);
      void follower
        .start(afterSequence, this.cursors)
        .catch((error: unknown) => follower.fail(error));
      return () => follower.stop();
    });
  }
}

/** Followers that saw their log's end in this turn; see endSoon. */
let ending: Array<{ end(): void }> = [];

/**
 * An end entry ends every follower of the key at once. The entry is delivered to all of them
 * first; the endings (leaving the hub, completing each subscription) wait for the next turn
 * of the event loop, when the transport has written the entry out.
 */
function endSoon(follower: { end(): void }): void {
  if (ending.length === 0) {
    setImmediate(() => {
      const followers = ending;
      ending = [];
      for (const each of followers) each.end();
    });
  }
  ending.push(follower);
}

/**
 * One subscriber's position in a log. A class with its state in one object: the hub calls
 * thousands of these per entry (see WatchListener).
 */
class LogFollower<
  Entry extends LogEntry,
  Topic extends keyof PubSubTopics,
> implements WatchListener<Entry[]> {
  /** No more entries are delivered. */
  private stopped = false;
  /** Out of the hub, and the observer told (or gone). */
  private closed = false;
  private listening = false;
  /** The last sequence delivered; entries arrive in order, at most once each. */
  private last = -1;
  /** Until the replay is done, and on a gap, entries wait here (no array while none wait). */
  private waiting: Entry[] | undefined;
  private reading = true;
  /** The last entry delivered was an end (at this sequence): the end, unless more follow. */
  private endedAt: number | undefined;

  constructor(
    private readonly hub: WatchHub<Entry[], Topic>,
    private readonly source: LogSource<Entry, Topic>,
    private readonly key: string,
    private readonly observer: FeedObserver<Entry>,
  ) {}

  async start(
    afterSequence: number | null | undefined,
    cursors: Map<string, number>,
  ): Promise<void> {
    const position = await this.source.position(this.key);
    if (this.stopped) return;
    if (!position) return this.end();
    if (!cursors.has(this.key)) cursors.set(this.key, position.lastSequence);
    // Listen before reading, so nothing written in between is missed.
    const watch = this.hub.listen(this.key, this);
    this.listening = true;
    await watch.live;
    if (this.stopped) return;
    if (afterSequence == null) {
      const current = await this.source.current(this.key);
      if (this.stopped) return;
      if (!current) return this.end();
      // An ended state ends the follower after the read below, unless the log went on.
      this.emit(current);
      if (this.stopped) return;
    } else {
      this.last = afterSequence;
      if (position.ended && position.lastSequence <= afterSequence) return this.end();
    }
    // The replay (and anything the hub delivered meanwhile); live from the hub after it.
    await this.catchUp();
  }

  /** The consumer left. */
  stop(): void {
    this.stopped = true;
    this.close();
  }

  fail(error: unknown): void {
    this.stopped = true;
    if (this.close()) this.observer.error(error);
  }

  deliver(entries: Entry[]): void {
    if (this.stopped) return;
    if (this.reading || this.waiting) {
      (this.waiting ??= []).push(...entries);
      if (!this.reading) this.drain();
      return;
    }
    // The usual case, kept free of sorting and copies: the next entries, in order.
    const newest = entries.at(-1)?.sequence ?? 0;
    for (const entry of entries) {
      if (this.stopped) return;
      if (entry.sequence === this.last + 1) this.emit(entry, newest > entry.sequence);
      else if (entry.sequence > this.last) (this.waiting ??= []).push(entry);
    }
    if (this.waiting) this.drain();
  }

  /** Leaves the hub and completes the observer, once (endSoon calls it after the end). */
  end(): void {
    this.stopped = true;
    if (this.close()) this.observer.complete();
  }

  /** Leaves the hub once; false if that was done already. */
  private close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    // Straight to the hub, not through the watch's handle: one object less per follower.
    if (this.listening) this.hub.unlisten(this.key, this);
    return true;
  }

  /**
   * Delivers the next entry. An end entry ends the follower unless an entry after it is known
   * (`followed`) or a replay is still reading: a log may go on after an end (a workflow or task
   * retried after it was cancelled or failed), and a replay across it follows it to the end
   * that is last; the replay decides once its last page is in.
   */
  private emit(entry: Entry, followed = false): void {
    this.last = entry.sequence;
    this.observer.next(entry);
    this.endedAt = this.source.isEnd(entry) ? entry.sequence : undefined;
    if (!followed && !this.reading) this.endIfAtEnd();
  }

  private endIfAtEnd(): void {
    if (this.stopped || this.endedAt !== this.last) return;
    this.stopped = true;
    endSoon(this);
  }

  /** Delivers what follows on from `last`; on a gap, reads the log from there. */
  private drain(): void {
    const waiting = this.waiting ?? [];
    waiting.sort((a, b) => a.sequence - b.sequence);
    const newest = waiting.at(-1)?.sequence ?? 0;
    let i = 0;
    for (; i < waiting.length && !this.stopped && waiting[i]!.sequence <= this.last + 1; i++) {
      const entry = waiting[i]!;
      if (entry.sequence === this.last + 1) this.emit(entry, newest > entry.sequence);
    }
    waiting.splice(0, i);
    this.waiting = waiting.length ? waiting : undefined;
    if (this.waiting && !this.stopped && !this.reading) void this.catchUp();
  }

  private async catchUp(): Promise<void> {
    this.reading = true;
    try {
      for (;;) {
        const page = await this.source.after(this.key, this.last);
        if (this.stopped) return;
        (this.waiting ??= []).push(...page);
        this.reading = page.length === this.source.page;
        this.drain();
        if (!this.reading) return this.endIfAtEnd();
      }
    } catch (error) {
      this.fail(error);
    }
  }
}

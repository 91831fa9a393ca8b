// A live feed over an append-only log with a per-key sequence (a workflow's events): the
// task feed's design (task-feed.ts) for any such log. One WatchHub per process follows each
// key once; a notification says "read again", the log is read after the last sequence the
// hub has, and each follower delivers in order from its own position, reading the log itself
// on a gap or a replay, so a resume with afterSequence is gap- and duplicate-free.
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
      onIdle: (key) => this.cursors.delete(key),
    });
  }

  close(): void {
    this.hub.close();
    this.cursors.clear();
  }

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

  /** The state now (or every entry after `afterSequence`), then each new entry; ends after the end. */
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

/** One subscriber's position in a log. */
class LogFollower<
  Entry extends LogEntry,
  Topic extends keyof PubSubTopics,
> implements WatchListener<Entry[]> {
  private stopped = false;
  private closed = false;
  private listening = false;
  private last = -1;
  private waiting: Entry[] = [];
  private reading = true;

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
      this.emit(current);
      if (this.stopped) return;
    } else {
      this.last = afterSequence;
      if (position.ended && position.lastSequence <= afterSequence) return this.end();
    }
    await this.catchUp();
  }

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
    this.waiting.push(...entries);
    if (!this.reading) this.drain();
  }

  private end(): void {
    this.stopped = true;
    if (this.close()) this.observer.complete();
  }

  private close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    if (this.listening) this.hub.unlisten(this.key, this);
    return true;
  }

  private emit(entry: Entry): void {
    this.last = entry.sequence;
    this.observer.next(entry);
    // The end waits a turn, so the transport writes the last entry before the stream closes.
    if (this.source.isEnd(entry)) {
      this.stopped = true;
      setImmediate(() => this.end());
    }
  }

  /** Delivers what follows on from `last`; on a gap, reads the log from there. */
  private drain(): void {
    this.waiting.sort((a, b) => a.sequence - b.sequence);
    let i = 0;
    for (
      ;
      i < this.waiting.length && !this.stopped && this.waiting[i]!.sequence <= this.last + 1;
      i++
    ) {
      if (this.waiting[i]!.sequence === this.last + 1) this.emit(this.waiting[i]!);
    }
    this.waiting.splice(0, i);
    if (this.waiting.length && !this.stopped && !this.reading) void this.catchUp();
  }

  private async catchUp(): Promise<void> {
    this.reading = true;
    try {
      for (;;) {
        const page = await this.source.after(this.key, this.last);
        if (this.stopped) return;
        this.waiting.push(...page);
        this.reading = page.length === this.source.page;
        this.drain();
        if (!this.reading) return;
      }
    } catch (error) {
      this.fail(error);
    }
  }
}

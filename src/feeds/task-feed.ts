// The feed behind taskProgress: a task's event log, followed live.
//
// The feed follows the log in PostgreSQL. A notification says "look again", so a lost one
// (Redis down, at-most-once delivery) delays an event by at most one poll interval and
// never loses it; sequences make replays gap- and duplicate-free. One TaskFeed per API
// process watches each followed task once: one pub/sub subscription and at most one
// database read per change, however many clients follow it. A worker's notification
// carries a copy of the committed event it announces; when that is the next event the feed
// expects, it is delivered without reading it back. Anything else, a gap, a replay, a lost
// notification, is read from the log.
import type { PubSub, TaskEventJson } from '../platform/pubsub.js';
import { selectLatestTaskEvent } from '../queue/latest-task-event.js';
import { selectTaskEventsAfter, TASK_EVENT_PAGE, type TaskEventRow } from '../queue/task-events.js';
import { selectTaskLogPosition } from '../queue/task-log-position.js';
import { isTerminal } from '../queue/task-row.js';
import { pushFeed, type FeedObserver, type PushFeed } from './push-feed.js';
import { WatchHub, type WatchListener } from './watch-hub.js';

export type { TaskEventRow };

/** The task feed of one API process: a WatchHub over `taskEvents`, delivering new log rows. */
export class TaskFeed {
  /** Per followed task: the last sequence the hub has (read, or handed over by a notification). */
  private readonly cursors = new Map<string, number>();
  private readonly hub: WatchHub<TaskEventRow[], 'taskEvents'>;

  constructor(pubsub: PubSub, pollMs = 1_000) {
    this.hub = new WatchHub({
      pubsub,
      topic: 'taskEvents',
      pollMs,
      read: (taskId) => this.readNew(taskId),
      fromNotification: (taskId, { event }) => this.nextFrom(taskId, event),
      onIdle: (taskId) => this.cursors.delete(taskId),
    });
  }

  close(): void {
    this.hub.close();
    this.cursors.clear();
  }

  /** Followed tasks (for tests and metrics). */
  get size(): number {
    return this.hub.size;
  }

  /** The notification's event, if it is the one after the last this hub delivered. */
  private nextFrom(taskId: string, event: TaskEventJson | undefined): TaskEventRow[] | undefined {
    const cursor = this.cursors.get(taskId);
    if (!event || event.taskId !== taskId || cursor === undefined || event.sequence !== cursor + 1)
      return undefined;
    this.cursors.set(taskId, event.sequence);
    const { sequence, status, progressPercent, currentStep, message, at } = event;
    return [{ taskId, sequence, status, progressPercent, currentStep, message, at: new Date(at) }];
  }

  private async readNew(taskId: string): Promise<TaskEventRow[] | undefined> {
    const events: TaskEventRow[] = [];
    for (;;) {
      const page = await selectTaskEventsAfter(taskId, this.cursors.get(taskId) ?? 0);
      if (page.length) this.cursors.set(taskId, page.at(-1)!.sequence);
      events.push(...page);
      if (page.length < TASK_EVENT_PAGE) break;
    }
    return events.length ? events : undefined;
  }

  /**
   * The current state first (the latest event), or every event after `afterSequence`
   * when given; then each new event in order; ends after a terminal one. Stopping takes
   * effect at once, even while the task is quiet, so a client that leaves frees its
   * listener. Live events reach an observer synchronously, in the hub's delivery.
   */
  follow(taskId: string, afterSequence?: number | null): PushFeed<TaskEventRow> {
    return pushFeed((observer) => {
      const follower = new TaskFollower(this.hub, taskId, observer);
      void follower
        .start(afterSequence, this.cursors)
        .catch((error: unknown) => follower.fail(error));
      return () => follower.stop();
    });
  }
}

/** Followers that saw their terminal event in this turn; see endSoon. */
let ending: TaskFollower[] = [];

/**
 * A terminal event ends every follower of the task at once. The event is delivered to all
 * of them first; the endings (leaving the hub, completing each subscription) wait for the
 * next turn of the event loop, when the transport has written the event out.
 */
function endSoon(follower: TaskFollower): void {
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
 * One subscriber's position in a task's event log. A class with its state in one object:
 * the hub calls thousands of these per event (see WatchListener).
 */
class TaskFollower implements WatchListener<TaskEventRow[]> {
  /** No more events are delivered. */
  private stopped = false;
  /** Out of the hub, and the observer told (or gone). */
  private closed = false;
  private listening = false;
  /** The last sequence delivered; events arrive in order, at most once each. */
  private last = -1;
  /** Until the replay is done, and on a gap, events wait here (no array while none wait). */
  private waiting: TaskEventRow[] | undefined;
  private reading = true;

  constructor(
    private readonly hub: WatchHub<TaskEventRow[], 'taskEvents'>,
    private readonly taskId: string,
    private readonly observer: FeedObserver<TaskEventRow>,
  ) {}

  async start(
    afterSequence: number | null | undefined,
    cursors: Map<string, number>,
  ): Promise<void> {
    const { taskId } = this;
    const current = await selectTaskLogPosition(taskId);
    if (this.stopped) return;
    if (!current) return this.end();
    if (!cursors.has(taskId)) cursors.set(taskId, current.lastSequence);
    // Listen before reading, so nothing written in between is missed.
    const watch = this.hub.listen(taskId, this);
    this.listening = true;
    await watch.live;
    if (this.stopped) return;
    if (afterSequence === null || afterSequence === undefined) {
      const latest = await selectLatestTaskEvent(taskId);
      if (this.stopped) return;
      if (!latest) return this.end();
      this.emit(latest);
      if (this.stopped) return;
    } else {
      this.last = afterSequence;
      if (isTerminal(current.status) && current.lastSequence <= afterSequence) return this.end();
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

  deliver(events: TaskEventRow[]): void {
    if (this.stopped) return;
    if (this.reading || this.waiting) {
      (this.waiting ??= []).push(...events);
      if (!this.reading) this.drain();
      return;
    }
    // The usual case, kept free of sorting and copies: the next events, in order.
    for (const event of events) {
      if (this.stopped) return;
      if (event.sequence === this.last + 1) this.emit(event);
      else if (event.sequence > this.last) (this.waiting ??= []).push(event);
    }
    if (this.waiting) this.drain();
  }

  /** Leaves the hub and completes the observer, once (endSoon calls it after a terminal event). */
  end(): void {
    this.stopped = true;
    if (this.close()) this.observer.complete();
  }

  /** Leaves the hub once; false if that was done already. */
  private close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    // Straight to the hub, not through the watch's handle: one object less per follower.
    if (this.listening) this.hub.unlisten(this.taskId, this);
    return true;
  }

  private emit(event: TaskEventRow): void {
    this.last = event.sequence;
    this.observer.next(event);
    if (isTerminal(event.status)) {
      this.stopped = true;
      endSoon(this);
    }
  }

  /** Delivers what follows on from `last`; on a gap, reads the log from there. */
  private drain(): void {
    const waiting = this.waiting ?? [];
    waiting.sort((a, b) => a.sequence - b.sequence);
    let i = 0;
    for (; i < waiting.length && !this.stopped && waiting[i]!.sequence <= this.last + 1; i++) {
      if (waiting[i]!.sequence === this.last + 1) this.emit(waiting[i]!);
    }
    waiting.splice(0, i);
    this.waiting = waiting.length ? waiting : undefined;
    if (this.waiting && !this.stopped && !this.reading) void this.catchUp();
  }

  private async catchUp(): Promise<void> {
    this.reading = true;
    try {
      for (;;) {
        const page = await selectTaskEventsAfter(this.taskId, this.last);
        if (this.stopped) return;
        (this.waiting ??= []).push(...page);
        this.reading = page.length === TASK_EVENT_PAGE;
        this.drain();
        if (!this.reading) return;
      }
    } catch (error) {
      this.fail(error);
    }
  }
}

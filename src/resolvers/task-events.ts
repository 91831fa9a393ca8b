// The task event log: paging for Task.events, and the feed behind taskProgress.
//
// The feed reads PostgreSQL, not pub/sub payloads: a notification only says "look
// again", so a lost one (Redis down, at-most-once delivery) delays an event by at most
// one poll interval and never loses it; sequences make replays gap- and duplicate-free.
// One TaskEventHub per API process watches each followed task once — one pub/sub
// subscription and one database read per change, however many clients follow it.
import { db } from '../db.js';
import type { PubSub } from '../pubsub.js';
import { isTerminal } from '../workers/sql/task-row.js';
import { connectionFromRows, decodeCursor, pageSize } from './pagination.js';
import { pushFeed, type PushFeed } from './push-feed.js';
import { WatchHub, type WatchHandle } from './watch-hub.js';

export type TaskEventRow = Awaited<ReturnType<typeof eventsAfter>>[number];

function eventsAfter(taskId: string, sequence: number, limit = 500) {
  return db().taskEvent.findMany({ where: { taskId, sequence: { gt: sequence } }, orderBy: { sequence: 'asc' }, take: limit });
}

export async function taskEventPage(taskId: string, args: { first?: number | null; after?: string | null }) {
  const limit = pageSize(args.first, 500, 100);
  const cursor = decodeCursor<[number]>(args.after, 1);
  const rows = await eventsAfter(taskId, cursor?.[0] ?? 0, limit + 1);
  return connectionFromRows(rows, limit, args.after, (row) => [row.sequence]);
}

/** The task feed of one API process: a WatchHub over `taskEvents`, delivering new log rows. */
export class TaskEventHub {
  /** Per followed task: the last sequence the hub read. */
  private readonly cursors = new Map<string, number>();
  private readonly hub: WatchHub<TaskEventRow[]>;

  constructor(pubsub: PubSub, pollMs = 1_000) {
    this.hub = new WatchHub<TaskEventRow[]>({
      pubsub,
      topic: 'taskEvents',
      pollMs,
      read: (taskId) => this.readNew(taskId),
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

  private async readNew(taskId: string): Promise<TaskEventRow[] | undefined> {
    const events: TaskEventRow[] = [];
    for (;;) {
      const page = await eventsAfter(taskId, this.cursors.get(taskId) ?? 0);
      if (page.length) this.cursors.set(taskId, page.at(-1)!.sequence);
      events.push(...page);
      if (page.length < 500) break;
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
      let stopped = false;
      let watch: WatchHandle | undefined;
      /** The last sequence delivered; events arrive in order, at most once each. */
      let last = -1;
      /** Until the replay is done, and on a gap, events wait here. */
      const waiting: TaskEventRow[] = [];
      let reading = true;
      const stop = () => {
        stopped = true;
        watch?.stop();
      };
      const fail = (error: unknown) => {
        if (stopped) return;
        stop();
        observer.error(error);
      };
      const emit = (event: TaskEventRow) => {
        last = event.sequence;
        observer.next(event);
        if (isTerminal(event.status) && !stopped) {
          stop();
          observer.complete();
        }
      };
      /** Delivers what follows on from `last`; on a gap, reads the log from there. */
      const drain = () => {
        waiting.sort((a, b) => a.sequence - b.sequence);
        let i = 0;
        for (; i < waiting.length && !stopped && waiting[i]!.sequence <= last + 1; i++) {
          if (waiting[i]!.sequence === last + 1) emit(waiting[i]!);
        }
        waiting.splice(0, i);
        if (waiting.length && !stopped) void catchUp();
      };
      const catchUp = async () => {
        reading = true;
        try {
          for (;;) {
            const page = await eventsAfter(taskId, last);
            if (stopped) return;
            waiting.push(...page);
            reading = page.length === 500;
            drain();
            if (!reading) return;
          }
        } catch (error) {
          fail(error);
        }
      };
      const onEvents = (events: TaskEventRow[]) => {
        if (stopped) return;
        if (reading || waiting.length) {
          waiting.push(...events);
          if (!reading) drain();
          return;
        }
        // The usual case, kept free of sorting and copies: the next events, in order.
        for (const event of events) {
          if (stopped) return;
          if (event.sequence === last + 1) emit(event);
          else if (event.sequence > last) waiting.push(event);
        }
        if (waiting.length) drain();
      };
      void (async () => {
        const current = await db().task.findUnique({ where: { id: taskId }, select: { status: true, lastSequence: true } });
        if (stopped) return;
        if (!current) {
          stop();
          return observer.complete();
        }
        if (!this.cursors.has(taskId)) this.cursors.set(taskId, current.lastSequence);
        // Listen before reading, so nothing written in between is missed.
        watch = this.hub.listen(taskId, onEvents);
        await watch.live;
        if (stopped) return;
        if (afterSequence === null || afterSequence === undefined) {
          const latest = await db().taskEvent.findFirst({ where: { taskId }, orderBy: { sequence: 'desc' } });
          if (stopped) return;
          if (!latest) {
            stop();
            return observer.complete();
          }
          emit(latest);
          if (stopped) return;
        } else {
          last = afterSequence;
          if (isTerminal(current.status) && current.lastSequence <= last) {
            stop();
            return observer.complete();
          }
        }
        // The replay (and anything the hub delivered meanwhile); live from the hub after it.
        await catchUp();
      })().catch(fail);
      return stop;
    });
  }
}

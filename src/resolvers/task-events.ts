// The task event log: paging for Task.events, and the feed behind taskProgress.
//
// The feed reads PostgreSQL, not pub/sub payloads: a notification only says "look
// again", so a lost one (Redis down, at-most-once delivery) delays an event by at most
// one poll interval and never loses it; sequences make replays gap- and duplicate-free.
// One TaskEventHub per API process watches each followed task once — one pub/sub
// subscription and one database read per change, however many clients follow it.
import { db } from '../db.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { isTerminal } from '../workers/sql/task-row.js';
import { connectionFromRows, decodeCursor, pageSize } from './pagination.js';

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

type Listener = (events: readonly TaskEventRow[]) => void;

interface FollowState {
  closed: boolean;
  wake?: () => void;
}

interface Watch {
  taskId: string;
  listeners: Set<Listener>;
  /** Highest sequence read and dispatched. */
  last: number;
  reading?: Promise<void>;
  readAgain: boolean;
  stopNotifications: () => void;
  ready: Promise<void>;
}

export class TaskEventHub {
  private readonly watches = new Map<string, Watch>();
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly pubsub: PubSub,
    pollMs = 1_000,
  ) {
    // The fallback for lost notifications: one read per followed task per interval.
    this.poller = setInterval(() => {
      for (const watch of this.watches.values()) void this.read(watch);
    }, pollMs);
    this.poller.unref();
  }

  close(): void {
    clearInterval(this.poller);
    for (const watch of this.watches.values()) watch.stopNotifications();
    this.watches.clear();
  }

  /** Followed tasks (for tests and metrics). */
  get size(): number {
    return this.watches.size;
  }

  private watch(taskId: string, from: number): Watch {
    let watch = this.watches.get(taskId);
    if (watch) return watch;
    const notifications = this.pubsub.subscribe('taskEvents', taskId);
    const created: Watch = {
      taskId,
      listeners: new Set(),
      last: from,
      readAgain: false,
      stopNotifications: () => void notifications.return?.(),
      // Not live (Redis down)? The poll covers it.
      ready: notifications.ready.catch(() => undefined),
    };
    this.watches.set(taskId, created);
    void (async () => {
      for await (const note of notifications) if (note.sequence > created.last) void this.read(created);
    })().catch(() => {});
    return created;
  }

  /** One read at a time per task; a change during a read triggers one more. */
  private read(watch: Watch): Promise<void> {
    if (watch.reading) {
      watch.readAgain = true;
      return watch.reading;
    }
    watch.reading = (async () => {
      do {
        watch.readAgain = false;
        const events = await eventsAfter(watch.taskId, watch.last);
        if (events.length === 0) continue;
        watch.last = events.at(-1)!.sequence;
        for (const listener of watch.listeners) listener(events);
        if (events.length === 500) watch.readAgain = true;
      } while (watch.readAgain);
    })()
      .catch((err) => logger.warn({ err: (err as Error).message, taskId: watch.taskId }, 'task event read failed; the poll retries'))
      .finally(() => {
        watch.reading = undefined;
      });
    return watch.reading;
  }

  private unlisten(watch: Watch, listener: Listener) {
    watch.listeners.delete(listener);
    if (watch.listeners.size === 0 && this.watches.get(watch.taskId) === watch) {
      this.watches.delete(watch.taskId);
      watch.stopNotifications();
    }
  }

  /**
   * The current state first (the latest event), or every event after `afterSequence`
   * when given; then each new event in order; ends after a terminal one. return() takes
   * effect at once, even while the task is quiet (an async generator alone would wait for
   * its next event), so a client that leaves frees its listener.
   */
  follow(taskId: string, afterSequence?: number | null): AsyncIterableIterator<TaskEventRow> {
    const state: FollowState = { closed: false };
    const events = this.followEvents(taskId, afterSequence, state);
    return {
      next: () => events.next(),
      return: async () => {
        state.closed = true;
        state.wake?.();
        return events.return(undefined);
      },
      throw: async (error: unknown) => {
        state.closed = true;
        state.wake?.();
        return events.throw(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async *followEvents(taskId: string, afterSequence: number | null | undefined, state: FollowState): AsyncGenerator<TaskEventRow> {
    const queue: TaskEventRow[] = [];
    const listener: Listener = (events) => {
      queue.push(...events);
      state.wake?.();
    };
    // Listen before reading, so nothing written in between is missed.
    const current = await db().task.findUnique({ where: { id: taskId }, select: { status: true, lastSequence: true } });
    if (!current) return;
    const watch = this.watch(taskId, current.lastSequence);
    watch.listeners.add(listener);
    try {
      await watch.ready;
      let last: number;
      if (afterSequence === null || afterSequence === undefined) {
        const latest = await db().taskEvent.findFirst({ where: { taskId }, orderBy: { sequence: 'desc' } });
        if (!latest) return;
        yield latest;
        if (isTerminal(latest.status)) return;
        last = latest.sequence;
      } else {
        last = afterSequence;
        if (isTerminal(current.status) && current.lastSequence <= last) return;
      }
      // Catch up from the log once (a replay), then live from the hub; read the log again
      // only on a gap between what this client saw and what the hub delivers.
      let catchUp = true;
      for (;;) {
        if (catchUp) {
          queue.push(...(await eventsAfter(taskId, last)));
          catchUp = false;
        }
        queue.sort((a, b) => a.sequence - b.sequence);
        while (queue.length && queue[0]!.sequence <= last + 1) {
          const event = queue.shift()!;
          if (event.sequence <= last) continue;
          yield event;
          last = event.sequence;
          if (isTerminal(event.status)) return;
        }
        if (queue.length) {
          catchUp = true;
          continue;
        }
        await new Promise<void>((resolve) => {
          state.wake = resolve;
          if (queue.length || state.closed) resolve();
        });
        state.wake = undefined;
        if (state.closed) return;
      }
    } finally {
      this.unlisten(watch, listener);
    }
  }
}

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
import { WatchHub } from './watch-hub.js';

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

interface FollowState {
  closed: boolean;
  wake?: () => void;
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
    // Listen before reading, so nothing written in between is missed.
    const current = await db().task.findUnique({ where: { id: taskId }, select: { status: true, lastSequence: true } });
    if (!current) return;
    if (!this.cursors.has(taskId)) this.cursors.set(taskId, current.lastSequence);
    const watch = this.hub.listen(taskId, (events) => {
      queue.push(...events);
      state.wake?.();
    });
    try {
      await watch.live;
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
      watch.stop();
    }
  }
}

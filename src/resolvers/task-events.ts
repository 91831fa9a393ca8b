// The task event log: paging for Task.events, and the feed behind taskProgress. The
// feed reads PostgreSQL, not the pub/sub payloads: a notification only says "look
// again", so a lost notification (Redis down, at-most-once delivery) delays an event by
// at most one poll interval and never loses it; sequences make replays gap- and
// duplicate-free.
import { db } from '../db.js';
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

/** Waits for a notification or the poll interval, whichever comes first. */
function nextWake(notifications: AsyncIterator<unknown>, pending: { next?: Promise<unknown> }, pollMs: number): Promise<void> {
  pending.next ??= notifications.next().finally(() => {
    pending.next = undefined;
  });
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([pending.next, new Promise((resolve) => (timer = setTimeout(resolve, pollMs)))]).then(() => clearTimeout(timer));
}

/**
 * The current state first (the latest event), or every event after `afterSequence` when
 * given; then each new event in order; ends after a terminal one.
 */
export async function* followTaskEvents(taskId: string, afterSequence: number | null | undefined, pubsub: PubSub, pollMs = 2_000): AsyncGenerator<TaskEventRow> {
  // Subscribe before reading, so nothing written in between is missed.
  const notifications = pubsub.subscribe('taskEvents', taskId);
  const pending: { next?: Promise<unknown> } = {};
  try {
    let last = afterSequence ?? undefined;
    if (last !== undefined) {
      // A client that already saw the end gets nothing more, and the stream ends.
      const task = await db().task.findUnique({ where: { id: taskId }, select: { status: true, lastSequence: true } });
      if (!task || (isTerminal(task.status) && task.lastSequence <= last)) return;
    } else {
      const latest = await db().taskEvent.findFirst({ where: { taskId }, orderBy: { sequence: 'desc' } });
      if (!latest) return;
      yield latest;
      if (isTerminal(latest.status)) return;
      last = latest.sequence;
    }
    for (;;) {
      for (const event of await eventsAfter(taskId, last)) {
        yield event;
        last = event.sequence;
        if (isTerminal(event.status)) return;
      }
      await nextWake(notifications, pending, pollMs);
    }
  } finally {
    await notifications.return?.();
  }
}

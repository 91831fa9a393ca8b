// Which teams have an enabled endpoint taking task events, as one worker knows it: every
// task's end asks, and most teams have none, so the answer is kept for a second per team
// rather than read in a transaction per task (queue throughput). An endpoint registered,
// enabled or subscribed elsewhere starts getting task events within that second.
import { db } from '../../platform/db.js';

const TASK_EVENT_TYPES = ['task.completed', 'task.failed', 'task.dead'];
const FRESH_MS = 1_000;

export interface TaskSubscribers {
  /** Whether `teamId` has an enabled endpoint subscribed to any task event. */
  any(teamId: string): Promise<boolean>;
}

export function taskSubscribers(freshMs = FRESH_MS): TaskSubscribers {
  const known = new Map<string, { at: number; any: Promise<boolean> }>();
  return {
    any(teamId) {
      const now = Date.now();
      const cached = known.get(teamId);
      if (cached && now - cached.at < freshMs) return cached.any;
      const any = db()
        .webhookEndpoint.findFirst({
          where: { teamId, enabled: true, eventTypes: { hasSome: TASK_EVENT_TYPES } },
          select: { id: true },
        })
        .then(Boolean);
      // A failed read is not kept: the next end asks again.
      known.set(teamId, { at: now, any: any.catch(() => true) });
      if (known.size > 10_000) known.clear();
      return any.catch(() => true);
    },
  };
}

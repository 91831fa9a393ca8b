// Reading a task's event log (task_events) in sequence order, after a given sequence: for
// paging Task.events and for the live feed's replays and gap fills.
import type { TaskEvent } from '../generated/prisma/client.js';
import { db } from '../platform/db.js';

export type TaskEventRow = Omit<TaskEvent, 'id'>;

/** Events read at once; a full page means there may be more. */
export const TASK_EVENT_PAGE = 500;

export function selectTaskEventsAfter(
  taskId: string,
  sequence: number,
  limit = TASK_EVENT_PAGE,
): Promise<TaskEventRow[]> {
  return db().taskEvent.findMany({
    where: { taskId, sequence: { gt: sequence } },
    orderBy: { sequence: 'asc' },
    take: limit,
  });
}

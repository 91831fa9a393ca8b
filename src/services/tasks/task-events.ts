// Task.events: a task's event log, oldest first, as a connection.
import { connectionFromRows, decodeCursor, pageSize } from '../../platform/pagination.js';
import { selectTaskEventsAfter, TASK_EVENT_PAGE } from '../../queue/task-events.js';

export type { TaskEventRow } from '../../queue/task-events.js';

export async function taskEventPage(
  taskId: string,
  args: { first?: number | null; after?: string | null },
) {
  const limit = pageSize(args.first, TASK_EVENT_PAGE, 100);
  const cursor = decodeCursor<[number]>(args.after, 1);
  const rows = await selectTaskEventsAfter(taskId, cursor?.[0] ?? 0, limit + 1);
  return connectionFromRows(rows, limit, args.after, (row) => [row.sequence]);
}

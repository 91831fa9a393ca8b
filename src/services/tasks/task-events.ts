// Task.events: a task's event log, oldest first, as a connection.
import {
  connectionFromRows,
  decodeCursor,
  forwardOnly,
  isInt4,
  notACursor,
  pageSize,
} from '../../platform/pagination.js';
import { selectTaskEventsAfter, TASK_EVENT_PAGE } from '../../queue/task-events.js';

export type { TaskEventRow } from '../../queue/task-events.js';

export async function taskEventPage(
  taskId: string,
  args: {
    first?: number | null;
    after?: string | null;
    last?: number | null;
    before?: string | null;
  },
) {
  forwardOnly(args);
  const limit = pageSize(args.first, TASK_EVENT_PAGE, 100);
  const cursor = decodeCursor<[unknown]>(args.after, 1);
  // A sequence: a whole number from 1 (a task's first event), as the cursors made here hold.
  const sequence = cursor?.[0];
  if (cursor && !(isInt4(sequence) && sequence >= 1)) throw notACursor();
  const rows = await selectTaskEventsAfter(
    taskId,
    (sequence as number | undefined) ?? 0,
    limit + 1,
  );
  return connectionFromRows(rows, limit, args.after, (row) => [row.sequence]);
}

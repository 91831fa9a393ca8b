// Where a task's event log stands (its status and last sequence): where a live feed starts.
import { db } from '../platform/db.js';

/** The task's status and last sequence (null: no such task). */
export function selectTaskLogPosition(taskId: string) {
  return db().task.findUnique({
    where: { id: taskId },
    select: { status: true, lastSequence: true },
  });
}

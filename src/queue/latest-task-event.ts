// A task's newest event: where a live feed that names no sequence to resume after starts.
import { db } from '../platform/db.js';
import type { TaskEventRow } from './task-events.js';

/** The newest event, or null for a task without events (deleted). */
export function selectLatestTaskEvent(taskId: string): Promise<TaskEventRow | null> {
  return db().taskEvent.findFirst({ where: { taskId }, orderBy: { sequence: 'desc' } });
}

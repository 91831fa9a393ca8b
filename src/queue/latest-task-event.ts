// A task's newest event: where a live feed that names no sequence to resume after starts.
import { db } from '../platform/db.js';
import type { TaskEventRow } from './task-events.js';

/**
 * The newest event; for a task whose log is still empty (a workflow step's continuation,
 * claimed by the commit that made it: its first event is its start or its end), its state
 * from its row at sequence 0; null for a task that is gone.
 */
export async function selectLatestTaskEvent(taskId: string): Promise<TaskEventRow | null> {
  const event = await db().taskEvent.findFirst({
    where: { taskId },
    orderBy: { sequence: 'desc' },
  });
  if (event) return event;
  const task = await db().task.findUnique({
    where: { id: taskId },
    select: {
      lastSequence: true,
      status: true,
      progressPercent: true,
      currentStep: true,
      updatedAt: true,
    },
  });
  if (!task) return null;
  const { lastSequence, status, progressPercent, currentStep, updatedAt } = task;
  return {
    taskId,
    sequence: lastSequence,
    status,
    progressPercent,
    currentStep,
    message: null,
    at: updatedAt,
  };
}

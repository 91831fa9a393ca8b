// Many tasks of one type, with their first events, in one statement: a workflow's commit
// makes every step that became ready runnable at once (a fan-out of a thousand is one insert).
import { PREPARED, type Queryable } from '../platform/db.js';
import type { TaskPriority } from '../generated/prisma/enums.js';
import { taskColumns, type TaskRow } from './task-row.js';

export interface NewTaskOf {
  payload: unknown;
  ownerId: string | null;
  teamId: string;
}

export interface NewTasks {
  type: string;
  priority: TaskPriority;
  maxAttempts: number;
  timeoutSeconds: number;
  tasks: readonly NewTaskOf[];
}

/** The rows, in the order given. */
export async function insertTasks(client: Queryable, batch: NewTasks): Promise<TaskRow[]> {
  if (batch.tasks.length === 0) return [];
  const payloads = batch.tasks.map((task) => JSON.stringify(task.payload ?? {}));
  const owners = batch.tasks.map((task) => task.ownerId);
  const teams = batch.tasks.map((task) => task.teamId);
  return client.$queryRaw<TaskRow[]>`${PREPARED}
    WITH input AS (
      SELECT * FROM unnest(${payloads}::jsonb[], ${owners}::uuid[], ${teams}::uuid[]) WITH ORDINALITY
        AS i(payload, "ownerId", "teamId", n)
    ),
    inserted AS (
      INSERT INTO tasks (type, priority, payload, "maxAttempts", "timeoutSeconds", "ownerId", "teamId", "lastSequence", "currentStep")
      SELECT ${batch.type}, ${batch.priority}::"TaskPriority", payload, ${batch.maxAttempts}, ${batch.timeoutSeconds},
             "ownerId", "teamId", 1, 'queued'
      FROM input ORDER BY n
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, 1, status, 0, 'queued', 'enqueued' FROM inserted
    )
    SELECT ${taskColumns('inserted')} FROM inserted`;
}

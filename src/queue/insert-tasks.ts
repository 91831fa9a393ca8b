// Many tasks of one type, with their first events, inside a larger statement: a workflow's
// commit makes every step that became ready runnable at once (a fan-out of a thousand is one
// insert). The caller's CTE names each task's payload, owner and team.
import { Prisma } from '../generated/prisma/client.js';
import type { TaskPriority } from '../generated/prisma/enums.js';

export interface TaskBatchSpec {
  type: string;
  priority: TaskPriority;
  maxAttempts: number;
  timeoutSeconds: number;
}

/**
 * CTEs inserting one task per row of `source` (a CTE with `payload` jsonb, `"ownerId"`,
 * `"teamId"`): `inserted_tasks` holds the new rows, `inserted_task_events` their events.
 */
export function insertTasksCtes(source: string, spec: TaskBatchSpec): Prisma.Sql {
  const from = Prisma.raw(source);
  return Prisma.sql`
    inserted_tasks AS (
      INSERT INTO tasks (type, priority, payload, "maxAttempts", "timeoutSeconds", "ownerId", "teamId",
                         "lastSequence", "currentStep")
      SELECT ${spec.type}, ${spec.priority}::"TaskPriority", payload, ${spec.maxAttempts}, ${spec.timeoutSeconds},
             "ownerId", "teamId", 1, 'queued'
      FROM ${from}
      RETURNING id, type, payload, status, "lastSequence"
    ),
    inserted_task_events AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, 1, status, 0, 'queued', 'enqueued' FROM inserted_tasks
    )`;
}

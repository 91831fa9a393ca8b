// The end of an attempt, with its event: COMPLETED with a result, or CANCELLED / TIMEOUT /
// FAILED / DEAD with an error. Only while this worker still holds the task.
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { TaskStatus } from '../../generated/prisma/enums.js';
import type { TaskRow } from './task-row.js';

export async function finishTask(
  client: Pick<PrismaClient, '$queryRaw'>,
  taskId: string,
  workerId: string,
  outcome: { status: Exclude<TaskStatus, 'PENDING' | 'RUNNING'>; result?: unknown; error?: string | null; message: string },
): Promise<TaskRow | undefined> {
  const progress = outcome.status === 'COMPLETED' ? 100 : null;
  const rows = await client.$queryRaw<TaskRow[]>`
    WITH updated AS (
      UPDATE tasks
      SET status = ${outcome.status}::"TaskStatus",
          result = ${outcome.result === undefined ? null : JSON.stringify(outcome.result)}::jsonb,
          error = ${outcome.error ?? null},
          "progressPercent" = coalesce(${progress}::int, "progressPercent"),
          "currentStep" = ${outcome.status.toLowerCase()},
          "lockedBy" = NULL, "lockedUntil" = NULL, "completedAt" = now(),
          "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep", ${outcome.message} FROM updated
    )
    SELECT * FROM updated`;
  return rows[0];
}

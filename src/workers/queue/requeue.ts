// Back to PENDING: an operator's retry of a finished task (fresh attempts), or a worker
// handing back a task it could not finish during a graceful shutdown (the attempt does
// not count).
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { TaskRow } from './task-row.js';

export async function retryFinishedTask(
  client: Pick<PrismaClient, '$queryRaw'>,
  taskId: string,
): Promise<TaskRow | undefined> {
  const rows = await client.$queryRaw<TaskRow[]>`
    WITH updated AS (
      UPDATE tasks
      SET status = 'PENDING', attempts = 0, "runAt" = now(), error = NULL, result = NULL, "completedAt" = NULL,
          "startedAt" = NULL, "cancellationRequested" = false, "progressPercent" = 0, "currentStep" = 'queued',
          "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status IN ('FAILED', 'DEAD', 'TIMEOUT', 'CANCELLED')
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, 0, 'queued', 'retried by an operator' FROM updated
    )
    SELECT * FROM updated`;
  return rows[0];
}

/** A running task handed back at shutdown: PENDING again, in its old place (runAt unchanged). */
export async function handBackTask(
  client: Pick<PrismaClient, '$queryRaw'>,
  taskId: string,
  workerId: string,
): Promise<boolean> {
  const rows = await client.$queryRaw<Array<{ id: string }>>`
    WITH updated AS (
      UPDATE tasks
      SET status = 'PENDING', attempts = greatest(attempts - 1, 0), "lockedBy" = NULL, "lockedUntil" = NULL,
          "currentStep" = 'requeued', "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep", 'handed back: the worker is shutting down' FROM updated
    )
    SELECT id FROM updated`;
  return rows.length > 0;
}

// An operator's retry of a finished task: back to PENDING with fresh attempts, with its event.
// A task that ended FAILED or TIMEOUT describes its last attempt in its own columns, not in its
// attemptLog (write-changes.ts, attemptEntry): the entry is appended before they are reset.
import { Prisma } from '../generated/prisma/client.js';
import type { Queryable } from '../platform/db.js';
import type { TaskRow } from './task-row.js';
import { attemptEntry } from './write-changes.js';

export async function retryFinishedTask(
  client: Queryable,
  taskId: string,
): Promise<TaskRow | undefined> {
  const rows = await client.$queryRaw<TaskRow[]>`
    WITH updated AS (
      UPDATE tasks t
      SET "attemptLog" = CASE WHEN t.status IN ('FAILED', 'TIMEOUT') AND t.attempts > 0
            THEN t."attemptLog" || ${attemptEntry(
              Prisma.sql`t."startedAt"`,
              Prisma.sql`t.status::text`,
              Prisma.sql`t.error`,
              { workerId: Prisma.sql`t."workerId"`, endedAt: Prisma.sql`t."completedAt"` },
            )} ELSE t."attemptLog" END,
          status = 'PENDING', attempts = 0, "leaseLosses" = 0, "unstartedLeaseLosses" = 0, postponements = 0,
          "runAt" = now(), error = NULL, result = NULL, "completedAt" = NULL,
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

// Progress of a running task, with its event; only while this worker still holds it.
import type { PrismaClient } from '../../generated/prisma/client.js';

export async function recordProgress(
  client: Pick<PrismaClient, '$queryRaw'>,
  taskId: string,
  workerId: string,
  percent: number,
  step: string | null,
): Promise<number | undefined> {
  const rows = await client.$queryRaw<Array<{ lastSequence: number }>>`
    WITH updated AS (
      UPDATE tasks
      SET "progressPercent" = ${percent}, "currentStep" = ${step}, "lastSequence" = "lastSequence" + 1, "updatedAt" = now()
      WHERE id = ${taskId}::uuid AND status = 'RUNNING' AND "lockedBy" = ${workerId}
      RETURNING id, "lastSequence", status, "progressPercent", "currentStep"
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep")
      SELECT id, "lastSequence", status, "progressPercent", "currentStep" FROM updated
    )
    SELECT "lastSequence" FROM updated`;
  return rows[0]?.lastSequence;
}

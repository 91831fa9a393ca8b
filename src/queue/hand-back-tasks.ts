// Tasks a worker holds but will not finish, at shutdown: PENDING again, in their old place
// (runAt unchanged), and the attempt does not count. A task whose start was never recorded
// (it waited in the worker's local queue) goes back without an event: its log never left
// PENDING.
// Only while this worker still holds them.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { attemptEntry } from './write-changes.js';

export async function handBackTasks(
  client: Queryable,
  workerId: string,
  tasks: ReadonlyArray<{ taskId: string; attempt: number; recorded: boolean }>,
): Promise<Array<{ id: string; lastSequence: number }>> {
  if (tasks.length === 0) return [];
  const ids = tasks.map((task) => task.taskId);
  const attempts = tasks.map((task) => task.attempt);
  const recorded = tasks.map((task) => task.recorded);
  return client.$queryRaw`${PREPARED}
    WITH back AS (
      SELECT * FROM unnest(${ids}::uuid[], ${attempts}::int[], ${recorded}::boolean[])
        AS b(id, attempt, recorded)
    ),
    held AS (
      SELECT t.id FROM tasks t JOIN back b ON b.id = t.id
      WHERE t.status = 'RUNNING' AND t."lockedBy" = ${workerId} AND t.attempts = b.attempt
      ORDER BY t.id FOR UPDATE OF t
    ),
    updated AS (
      UPDATE tasks t
      SET status = 'PENDING', attempts = greatest(t.attempts - 1, 0), "lockedBy" = NULL,
          "attemptLog" = CASE WHEN b.recorded THEN t."attemptLog" || ${attemptEntry(
            Prisma.sql`t."startedAt"`,
            Prisma.sql`'HANDED_BACK'`,
            Prisma.sql`'its worker shut down; it runs again (the attempt does not count)'`,
          )} ELSE t."attemptLog" END,
          "lockedUntil" = NULL, "startedAt" = CASE WHEN b.recorded THEN t."startedAt" END,
          "currentStep" = CASE WHEN b.recorded THEN 'requeued' ELSE t."currentStep" END,
          "lastSequence" = t."lastSequence" + CASE WHEN b.recorded THEN 1 ELSE 0 END,
          "updatedAt" = now()
      FROM back b JOIN held h ON h.id = b.id
      WHERE t.id = b.id
      RETURNING t.id, t."lastSequence", t.status, t."progressPercent", t."currentStep", b.recorded
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             'handed back: the worker is shutting down'
      FROM updated WHERE recorded
    )
    SELECT id, "lastSequence" FROM updated`;
}

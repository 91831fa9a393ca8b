// Tasks a worker holds but will not finish, at shutdown: PENDING again, in their old place
// (runAt unchanged), and the attempt does not count. A task whose start was never recorded
// (it waited in the worker's local queue) goes back without an event: its log never left
// PENDING. One whose cancellation was asked for while it was held ends CANCELLED instead, as a
// task taken back from a dead worker does (reclaim-expired.ts): handed back, it would start
// again on another worker, as if never cancelled.
// Only while this worker still holds them.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { holdsLease } from './lease-fence.js';
import { attemptEntry } from './write-changes.js';

export interface HandedBackTask {
  id: string;
  lastSequence: number;
  /** PENDING, or CANCELLED when its cancellation was asked for. */
  status: 'PENDING' | 'CANCELLED';
  error: string | null;
  currentStep: string | null;
  completedAt: Date | null;
  /** Whether it has a new event (its start was recorded, or it was cancelled). */
  announced: boolean;
}

export async function handBackTasks(
  client: Queryable,
  workerId: string,
  tasks: ReadonlyArray<{ taskId: string; attempt: number; recorded: boolean }>,
): Promise<HandedBackTask[]> {
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
      SELECT t.id, t."cancellationRequested" AS cancel FROM tasks t JOIN back b ON b.id = t.id
      WHERE ${holdsLease('t', workerId, Prisma.sql`b.attempt`)}
      ORDER BY t.id FOR UPDATE OF t
    ),
    updated AS (
      UPDATE tasks t
      SET status = CASE WHEN h.cancel THEN 'CANCELLED'::"TaskStatus" ELSE 'PENDING'::"TaskStatus" END,
          -- A cancelled run that began counts, as any that ended; handed back, none does.
          attempts = CASE WHEN h.cancel AND b.recorded THEN t.attempts ELSE greatest(t.attempts - 1, 0) END,
          "lockedBy" = NULL,
          "attemptLog" = CASE WHEN b.recorded THEN t."attemptLog" || ${attemptEntry(
            Prisma.sql`t."startedAt"`,
            Prisma.sql`CASE WHEN h.cancel THEN 'CANCELLED' ELSE 'HANDED_BACK' END`,
            Prisma.sql`CASE WHEN h.cancel THEN 'cancelled as asked; its worker shut down'
                            ELSE 'its worker shut down; it runs again (the attempt does not count)' END`,
          )} ELSE t."attemptLog" END,
          "lockedUntil" = NULL, "startedAt" = CASE WHEN b.recorded THEN t."startedAt" END,
          "completedAt" = CASE WHEN h.cancel THEN now() END,
          error = CASE WHEN h.cancel AND b.recorded THEN 'cancelled; its worker shut down while running it'
                       WHEN h.cancel THEN 'cancelled before it ran' ELSE t.error END,
          "currentStep" = CASE WHEN h.cancel THEN 'cancelled' WHEN b.recorded THEN 'requeued'
                               ELSE t."currentStep" END,
          "lastSequence" = t."lastSequence" + CASE WHEN b.recorded OR h.cancel THEN 1 ELSE 0 END,
          "updatedAt" = now()
      FROM back b JOIN held h ON h.id = b.id
      WHERE t.id = b.id
      RETURNING t.id, t."lastSequence", t.status, t.error, t."progressPercent", t."currentStep",
                t."completedAt", b.recorded OR h.cancel AS announced
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'CANCELLED' THEN 'handed back: the worker is shutting down; cancelled as asked'
                  ELSE 'handed back: the worker is shutting down' END
      FROM updated WHERE announced
    )
    SELECT id, "lastSequence", status::text, error, "currentStep", "completedAt", announced FROM updated`;
}

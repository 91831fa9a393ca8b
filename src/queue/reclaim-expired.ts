// Tasks whose worker stopped renewing its lease (killed, frozen, cut off): back to PENDING
// for another worker. A lost lease spends the task's own small budget (maxLeaseLosses), not
// its attempts (those count runs that ended by themselves), as BullMQ's stalled count does:
// a task that keeps taking its worker down still ends DEAD. `attempts` stays as it was, so
// the lost run's worker, should it come back, is fenced out. A task taken back keeps its
// runAt, so its place in the claim order (priority, runAt, createdAt): it runs before the
// work enqueued after it, not behind it. One whose start is not recorded goes back without an
// event, and its claim does not count: it waited in a worker's local queue, or it began less
// than the start's recording delay before its worker died. Such a task's next claim records
// its start at once (unstartedLeaseLosses, claim.ts), so a task that takes its worker down
// that fast spends its budget from its second run on, as any other. One whose cancellation was
// asked for meanwhile ends CANCELLED instead (its worker can no longer stop it).
import { Prisma } from '../generated/prisma/client.js';
import type { Queryable } from '../platform/db.js';
import { attemptEntry } from './write-changes.js';

export async function reclaimExpiredLeases(
  client: Queryable,
  maxLeaseLosses: number,
): Promise<Array<{ id: string; status: string; lastSequence: number }>> {
  const dead = Prisma.sql`x.ran AND t."leaseLosses" + 1 >= ${maxLeaseLosses}`;
  return client.$queryRaw`
    WITH expired AS (
      -- startedAt: it started (at its claim, or recorded since); else it waited in a local queue.
      -- A cancellation asked for while its worker was gone ends it here, CANCELLED: taken
      -- back, it would start again on another worker, as if never cancelled.
      SELECT id, "startedAt" IS NOT NULL AS ran, "cancellationRequested" AS cancel
      FROM tasks WHERE status = 'RUNNING' AND "lockedUntil" < now()
      FOR UPDATE SKIP LOCKED
    ),
    updated AS (
      UPDATE tasks t
      SET "leaseLosses" = t."leaseLosses" + CASE WHEN x.ran THEN 1 ELSE 0 END,
          "unstartedLeaseLosses" = t."unstartedLeaseLosses" + CASE WHEN x.ran THEN 0 ELSE 1 END,
          status = CASE WHEN x.cancel THEN 'CANCELLED'::"TaskStatus"
                        WHEN ${dead} THEN 'DEAD'::"TaskStatus" ELSE 'PENDING'::"TaskStatus" END,
          attempts = CASE WHEN x.ran THEN t.attempts ELSE greatest(t.attempts - 1, 0) END,
          "completedAt" = CASE WHEN x.cancel OR ${dead} THEN now() END,
          error = CASE WHEN x.cancel AND x.ran THEN 'cancelled; its worker stopped while running it'
                       WHEN x.cancel THEN t.error
                       WHEN ${dead}
                       THEN 'its worker stopped while running it ' || (t."leaseLosses" + 1) || ' times'
                       ELSE t.error END,
          "attemptLog" = CASE WHEN x.ran THEN t."attemptLog" || ${attemptEntry(
            Prisma.sql`t."startedAt"`,
            Prisma.sql`'LEASE_LOST'`,
            Prisma.sql`'its worker stopped renewing its lease'`,
          )} ELSE t."attemptLog" END,
          "lockedBy" = NULL, "lockedUntil" = NULL,
          "currentStep" = CASE WHEN x.cancel THEN 'cancelled'
                               WHEN NOT x.ran THEN t."currentStep"
                               WHEN ${dead} THEN 'dead'
                               ELSE 'requeued' END,
          "lastSequence" = t."lastSequence" + CASE WHEN x.ran OR x.cancel THEN 1 ELSE 0 END,
          "updatedAt" = now()
      FROM expired x WHERE t.id = x.id
      RETURNING t.*, x.ran, x.cancel
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'CANCELLED' THEN 'lease expired: the worker stopped; cancelled as asked'
                  WHEN status = 'DEAD' THEN 'lease expired: ' || error || '; dead'
                  ELSE 'lease expired: the worker stopped; requeued' END
      FROM updated WHERE ran OR cancel
    )
    SELECT id, status::text, "lastSequence" FROM updated`;
}

// Cancelling many tasks inside a larger statement (a workflow cancelled or failed): PENDING
// ones end CANCELLED at once, RUNNING ones are flagged for their workers to abort, each with its
// event. Rows another transaction holds are skipped rather than waited for: that one is
// finishing the task (or renewing its lease, or recording its start), and waiting could
// deadlock with it. The skipped ones are named (`held_tasks`): once the statement's
// transaction has committed, their cancellation is requested again, each on its own (see
// src/services/workflows/signals.ts), and the workflow reconciler asks again for any left.
import { Prisma } from '../generated/prisma/client.js';

/** A task a cancellation still changes: queued, or running and not yet asked to stop. */
const CANCELLABLE = Prisma.sql`t.status IN ('PENDING', 'RUNNING')
  AND NOT (t.status = 'RUNNING' AND t."cancellationRequested")`;

/**
 * CTEs over `ids` (a SELECT of task ids): `cancelled_tasks` holds the changed rows (id, status,
 * lastSequence, type), `cancelled_task_events` their events, `held_tasks` the ids of those
 * skipped because another transaction held them.
 */
export function cancelTasksCtes(ids: Prisma.Sql, message: string): Prisma.Sql {
  return Prisma.sql`
    cancel_target AS (
      SELECT t.id FROM tasks t WHERE t.id IN (${ids}) AND ${CANCELLABLE}
      ORDER BY t.id FOR UPDATE SKIP LOCKED
    ),
    held_tasks AS (
      SELECT t.id FROM tasks t WHERE t.id IN (${ids}) AND ${CANCELLABLE}
        AND t.id NOT IN (SELECT id FROM cancel_target)
    ),
    cancelled_tasks AS (
      UPDATE tasks t
      SET status = CASE WHEN t.status = 'PENDING' THEN 'CANCELLED'::"TaskStatus" ELSE t.status END,
          "completedAt" = CASE WHEN t.status = 'PENDING' THEN now() ELSE t."completedAt" END,
          "currentStep" = CASE WHEN t.status = 'PENDING' THEN 'cancelled' ELSE t."currentStep" END,
          "cancellationRequested" = true,
          "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
      FROM cancel_target c WHERE t.id = c.id
      RETURNING t.id, t.status, t."lastSequence", t.type, t."progressPercent", t."currentStep"
    ),
    cancelled_task_events AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep",
             CASE WHEN status = 'CANCELLED' THEN 'cancelled before it ran' ELSE ${message} END
      FROM cancelled_tasks
    )`;
}

/** A task the cancellation changed: announce its event; push the cancel of a running one. */
export interface CancelledTask {
  id: string;
  status: string;
  lastSequence: number;
}

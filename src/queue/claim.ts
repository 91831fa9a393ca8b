// Claim the next runnable tasks (as many as the worker has free slots): PENDING, due, of
// a type this worker runs, by priority (HIGH first: enum order) then age; SKIP LOCKED so
// concurrent workers never wait on or take the same row. The claims, their leases and
// their events are one statement. Each claimed row says how long it waited since it became
// runnable (due, and PENDING since its last change), on PostgreSQL's clock whichever
// process enqueued it.
import { PREPARED, type Queryable } from '../platform/db.js';
import { Prisma } from '../generated/prisma/client.js';
import { eventJson, taskColumns, type TaskRow } from './task-row.js';

/** The claim as CTEs (`claimed` holds the claimed rows), to run alone or with finishTasks. */
export function claimCtes(
  workerId: string,
  types: string[],
  leaseMs: number,
  limit: number,
): Prisma.Sql {
  return Prisma.sql`
    next AS (
      SELECT id, greatest("runAt", "updatedAt") AS "readyAt" FROM tasks
      WHERE status = 'PENDING' AND "runAt" <= now() AND type = ANY(${types}::text[])
      ORDER BY priority, "runAt", "createdAt", id
      FOR UPDATE SKIP LOCKED
      LIMIT ${limit}
    ),
    claimed AS (
      UPDATE tasks t
      SET status = 'RUNNING', attempts = t.attempts + 1, "lockedBy" = ${workerId},
          "lockedUntil" = now() + ${leaseMs} * interval '1 millisecond',
          "startedAt" = now(), "completedAt" = NULL, "currentStep" = 'starting',
          "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
      FROM next WHERE t.id = next.id
      RETURNING t.*, next."readyAt"
    ),
    claim_event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep", 'attempt ' || attempts || ' started by ' || ${workerId}
      FROM claimed
      RETURNING *
    )`;
}

/** The claimed rows with their events, in claim order (the SELECT after claimCtes). */
export const selectClaimed = (change = Prisma.empty) => Prisma.sql`
  SELECT ${change} ${taskColumns('c')}, ${eventJson('e')} AS event,
    greatest(extract(epoch FROM c."startedAt" - c."readyAt"), 0)::float8 AS "queueWaitSeconds"
  FROM claimed c JOIN claim_event e ON e."taskId" = c.id
  ORDER BY c.priority, c."runAt", c."createdAt", c.id`;

export async function claimTasks(
  client: Queryable,
  workerId: string,
  types: string[],
  leaseMs: number,
  limit: number,
): Promise<TaskRow[]> {
  return client.$queryRaw<
    TaskRow[]
  >`${PREPARED}WITH ${claimCtes(workerId, types, leaseMs, limit)} ${selectClaimed()}`;
}

export async function claimNextTask(
  client: Queryable,
  workerId: string,
  types: string[],
  leaseMs: number,
): Promise<TaskRow | undefined> {
  return (await claimTasks(client, workerId, types, leaseMs, 1))[0];
}

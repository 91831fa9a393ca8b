// Claim runnable tasks, up to `limit`: PENDING, due, of a type this worker runs, by priority
// (HIGH first: enum order) then age; SKIP LOCKED so concurrent workers never wait on or take
// the same row. A claimed task is RUNNING under this worker's lease, whether it starts at once
// (the first `startNow`, for the worker's free slots: their startedAt is set) or waits in the
// worker's local queue (startedAt NULL until its start is recorded, write-changes.ts, but for
// a task that lost a lease before its start was recorded: set at its claim). Its
// RUNNING event is written with its recorded start, or not at all when its end comes first.
// Each claimed row says how long it waited since it became runnable (due, and PENDING since
// its last change), on PostgreSQL's clock whichever process enqueued it.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { claimedTaskColumns, type ClaimedTaskRow } from './task-row.js';

/**
 * The claim as CTEs (`claimed` holds the claimed rows), to run alone or after other CTEs;
 * `counts` puts SQL in place of the limit and startNow (counted from those CTEs' rows).
 */
export function claimCtes(
  workerId: string,
  claim: Claim,
  counts?: { limit: Prisma.Sql; startNow: Prisma.Sql },
): Prisma.Sql {
  const limit = counts?.limit ?? claim.limit;
  const startNow = counts?.startNow ?? claim.startNow;
  return Prisma.sql`
    next AS (
      SELECT id, priority, "runAt", "createdAt", greatest("runAt", "updatedAt") AS "readyAt"
      FROM tasks
      WHERE status = 'PENDING' AND "runAt" <= now() AND type = ANY(${claim.types}::text[])
      ORDER BY priority, "runAt", "createdAt", id
      FOR UPDATE SKIP LOCKED
      -- The limit as a subquery: the cached generic plan then costs what a plan for the
      -- values does, and is used; with a bare parameter the generic plan guessed a tenth of
      -- the PENDING rows, looked dearer, and every turn was planned again (2-3 % of its CPU).
      LIMIT (SELECT ${limit}::int)
    ),
    claimed AS (
      UPDATE tasks t
      SET status = 'RUNNING', attempts = t.attempts + 1, "lockedBy" = ${workerId}, "workerId" = ${workerId},
          "lockedUntil" = now() + ${claim.leaseMs} * interval '1 millisecond',
          -- The first startNow in claim order (an array computed once: a window function
          -- joined here led the planner to scan the whole table). The clock, not now(): a
          -- claim inside a longer transaction (after a workflow step's end) starts its tasks
          -- when it runs, not when that transaction began. A task that lost a lease before
          -- its start was recorded has it recorded by the claim, wherever it waits: should it
          -- take this worker down too, the loss counts (reclaim-expired.ts).
          "startedAt" = CASE WHEN t.id = ANY(ARRAY(
              SELECT id FROM next ORDER BY priority, "runAt", "createdAt", id
              LIMIT ${startNow})) OR t."unstartedLeaseLosses" > 0 THEN clock_timestamp() END,
          "completedAt" = NULL, "updatedAt" = now()
      -- The id list as well as the join: so the rows are found by their key, not by a scan.
      FROM next WHERE t.id = next.id AND t.id = ANY(ARRAY(SELECT id FROM next))
      RETURNING t.*, next."readyAt"
    )`;
}

export interface Claim {
  types: string[];
  leaseMs: number;
  /** At most this many tasks. */
  limit: number;
  /** The first this many start at once (the worker's free slots); the rest wait in its local queue. */
  startNow: number;
}

export async function claimTasks(
  client: Queryable,
  workerId: string,
  claim: Claim,
): Promise<ClaimedTaskRow[]> {
  return client.$queryRaw<ClaimedTaskRow[]>`${PREPARED}
    WITH ${claimCtes(workerId, claim)}
    SELECT ${claimedTaskColumns('c')},
      greatest(extract(epoch FROM coalesce(c."startedAt", now()) - c."readyAt"), 0)::float8
        AS "queueWaitSeconds"
    FROM claimed c
    ORDER BY c.priority, c."runAt", c."createdAt", c.id`;
}

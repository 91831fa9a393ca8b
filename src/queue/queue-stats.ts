// Queue statistics in one statement: counts by status and by priority (pending), the
// oldest pending age, how long the oldest due task has waited, and the workers whose
// heartbeat is recent (and that did not stop). Of every task, or of the tasks of some teams
// (a caller sees its own teams' queue: how busy other tenants are is theirs).
import { Prisma } from '../generated/prisma/client.js';
import type { Queryable } from '../platform/db.js';
import { TASK_LIST_PARTS } from './task-row.js';

export interface QueueStatsRow {
  pending: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  timeout: number;
  dead: number;
  pendingHigh: number;
  pendingMedium: number;
  pendingLow: number;
  oldestPendingAgeSeconds: number | null;
  /** Since its runAt (enqueued, or due for a retry), of the oldest PENDING task that is due. */
  oldestDueWaitSeconds: number | null;
  workersAlive: number;
}

export async function selectQueueStats(
  client: Queryable,
  aliveWithinMs: number,
  /** Only these teams' tasks; undefined: every task. */
  teamIds?: readonly string[],
): Promise<QueueStatsRow> {
  // A team's tasks in the two parts the task lists' indexes hold (TASK_LIST_PARTS).
  const ofTeams = (teams: string[]) =>
    [TASK_LIST_PARTS.rest, TASK_LIST_PARTS.running].map(
      (part) => Prisma.sql`
        SELECT status, priority, "createdAt", "runAt" FROM tasks
        WHERE "teamId" = ANY(${teams}::uuid[]) AND ${part}`,
    );
  const tasks = teamIds
    ? Prisma.sql`(${Prisma.join(ofTeams([...teamIds]), ' UNION ALL ')}) tasks`
    : Prisma.sql`tasks`;
  const [row] = await client.$queryRaw<QueueStatsRow[]>`
    SELECT
      count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
      count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
      count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
      count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
      count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
      count(*) FILTER (WHERE status = 'TIMEOUT')::int AS timeout,
      count(*) FILTER (WHERE status = 'DEAD')::int AS dead,
      count(*) FILTER (WHERE status = 'PENDING' AND priority = 'HIGH')::int AS "pendingHigh",
      count(*) FILTER (WHERE status = 'PENDING' AND priority = 'MEDIUM')::int AS "pendingMedium",
      count(*) FILTER (WHERE status = 'PENDING' AND priority = 'LOW')::int AS "pendingLow",
      extract(epoch FROM now() - min("createdAt") FILTER (WHERE status = 'PENDING'))::float8
        AS "oldestPendingAgeSeconds",
      extract(epoch FROM now() - min("runAt") FILTER (WHERE status = 'PENDING' AND "runAt" <= now()))::float8
        AS "oldestDueWaitSeconds",
      (SELECT count(*)::int FROM workers
       WHERE "lastHeartbeatAt" > now() - ${aliveWithinMs} * interval '1 millisecond'
         AND "stoppedAt" IS NULL) AS "workersAlive"
    FROM ${tasks}`;
  return row!;
}

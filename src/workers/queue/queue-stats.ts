// Queue statistics in one statement: counts by status and by priority (pending), the
// oldest pending age, and the workers whose heartbeat is recent.
import type { PrismaClient } from '../../generated/prisma/client.js';

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
  workersAlive: number;
}

export async function selectQueueStats(
  client: Pick<PrismaClient, '$queryRaw'>,
  aliveWithinMs: number,
): Promise<QueueStatsRow> {
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
      extract(epoch FROM now() - min("createdAt") FILTER (WHERE status = 'PENDING'))::float8 AS "oldestPendingAgeSeconds",
      (SELECT count(*)::int FROM workers WHERE "lastHeartbeatAt" > now() - ${aliveWithinMs} * interval '1 millisecond') AS "workersAlive"
    FROM tasks`;
  return row!;
}

/** 1-based place in the claim order (priority, runAt, createdAt, id) among PENDING tasks. */
export async function selectQueuePosition(
  client: Pick<PrismaClient, '$queryRaw'>,
  taskId: string,
): Promise<number | null> {
  const [row] = await client.$queryRaw<Array<{ position: number | null }>>`
    SELECT CASE WHEN t.status = 'PENDING' THEN (
      SELECT count(*)::int + 1 FROM tasks o
      WHERE o.status = 'PENDING' AND (o.priority, o."runAt", o."createdAt", o.id) < (t.priority, t."runAt", t."createdAt", t.id)
    ) END AS position
    FROM tasks t WHERE t.id = ${taskId}::uuid`;
  return row?.position ?? null;
}

/** Mean run time of the last finished tasks of a type, in ms (for estimates). */
export async function selectRecentDurationMs(
  client: Pick<PrismaClient, '$queryRaw'>,
  type: string,
): Promise<number | null> {
  const [row] = await client.$queryRaw<Array<{ ms: number | null }>>`
    SELECT avg(extract(epoch FROM "completedAt" - "startedAt") * 1000)::float8 AS ms FROM (
      SELECT "startedAt", "completedAt" FROM tasks
      WHERE type = ${type} AND status = 'COMPLETED' AND "startedAt" IS NOT NULL AND "completedAt" IS NOT NULL
      ORDER BY "completedAt" DESC LIMIT 20
    ) recent`;
  return row?.ms ?? null;
}

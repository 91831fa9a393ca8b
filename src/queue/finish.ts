// The end of attempts, with their events: COMPLETED with a result, or CANCELLED / TIMEOUT /
// FAILED / DEAD with an error. Only while this worker still holds the task. Many tasks in
// one statement: a worker records the attempts that end together in one commit.
import { PREPARED, type Queryable } from '../platform/db.js';
import { Prisma } from '../generated/prisma/client.js';
import type { TaskStatus } from '../generated/prisma/enums.js';
import { eventJson, taskColumns, type TaskRow } from './task-row.js';

export interface TaskOutcome {
  status: Exclude<TaskStatus, 'PENDING' | 'RUNNING'>;
  result?: unknown;
  error?: string | null;
  /** The message of the task's event. */
  message: string;
  /** The attempt that ended: a later attempt of the same task (the lease lost and won back) is not ended by it. */
  attempt?: number;
}

export type TaskOutcomeOf = TaskOutcome & { taskId: string };

/** The finish as CTEs (`finished` holds the finished rows), to run alone or with claimTasks. */
export function finishCtes(workerId: string, outcomes: readonly TaskOutcomeOf[]): Prisma.Sql {
  const ids = outcomes.map((o) => o.taskId);
  const statuses = outcomes.map((o) => o.status);
  const results = outcomes.map((o) => (o.result === undefined ? null : JSON.stringify(o.result)));
  const errors = outcomes.map((o) => o.error ?? null);
  const messages = outcomes.map((o) => o.message);
  const attempts = outcomes.map((o) => o.attempt ?? null);
  return Prisma.sql`
    outcome AS (
      SELECT * FROM unnest(${ids}::uuid[], ${statuses}::"TaskStatus"[], ${results}::jsonb[], ${errors}::text[], ${messages}::text[], ${attempts}::int[])
        AS o(id, status, result, error, message, attempt)
    ),
    held AS (
      -- Locked in id order, as renewLeases does: multi-row updates in different orders deadlock.
      SELECT t.id FROM tasks t JOIN outcome o ON o.id = t.id
      WHERE t.status = 'RUNNING' AND t."lockedBy" = ${workerId} AND (o.attempt IS NULL OR t.attempts = o.attempt)
      ORDER BY t.id FOR UPDATE OF t
    ),
    finished AS (
      UPDATE tasks t
      SET status = o.status, result = o.result, error = o.error,
          "progressPercent" = CASE WHEN o.status = 'COMPLETED' THEN 100 ELSE t."progressPercent" END,
          "currentStep" = lower(o.status::text),
          "lockedBy" = NULL, "lockedUntil" = NULL, "completedAt" = now(),
          "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
      FROM outcome o JOIN held h ON h.id = o.id
      WHERE t.id = o.id AND t.status = 'RUNNING' AND t."lockedBy" = ${workerId}
      RETURNING t.*
    ),
    finish_event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT f.id, f."lastSequence", f.status, f."progressPercent", f."currentStep", o.message
      FROM finished f JOIN outcome o ON o.id = f.id
      RETURNING *
    )`;
}

/** The finished rows with their events (the SELECT after finishCtes; columns as selectClaimed's). */
export const selectFinished = (change = Prisma.empty) => Prisma.sql`
  SELECT ${change} ${taskColumns('f')}, ${eventJson('e')} AS event, NULL::float8 AS "queueWaitSeconds"
  FROM finished f JOIN finish_event e ON e."taskId" = f.id`;

/** The finished rows; a task this worker no longer holds is left alone and not returned. */
export async function finishTasks(
  client: Queryable,
  workerId: string,
  outcomes: readonly TaskOutcomeOf[],
): Promise<TaskRow[]> {
  if (outcomes.length === 0) return [];
  return client.$queryRaw<
    TaskRow[]
  >`${PREPARED}WITH ${finishCtes(workerId, outcomes)} ${selectFinished()}`;
}

export async function finishTask(
  client: Queryable,
  taskId: string,
  workerId: string,
  outcome: TaskOutcome,
): Promise<TaskRow | undefined> {
  return (await finishTasks(client, workerId, [{ ...outcome, taskId }]))[0];
}

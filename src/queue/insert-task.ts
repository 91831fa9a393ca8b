// The insert behind enqueue (enqueue.ts): the task row and its first event in one statement.
// With an idempotency key the caller's existing task (of the last 24 h) is returned instead,
// when it is of the same team: a key is its owner's across their teams, and one they spent in
// another team is a CONFLICT, never that team's task (docs/teams.md).
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { conflict } from '../platform/errors.js';
import type { TaskPriority } from '../generated/prisma/enums.js';
import { taskColumns, type TaskRow } from './task-row.js';

export interface NewTask {
  type: string;
  priority: TaskPriority;
  payload: unknown;
  maxAttempts: number;
  timeoutSeconds: number;
  ownerId: string | null;
  /** The team the task belongs to; none: the `default` team (the operator's). */
  teamId?: string | null;
  agentId?: string | null;
  topicId?: string | null;
  webhookUrl?: string | null;
  idempotencyKey?: string | null;
  runAt?: Date;
  /** W3C traceparent of the span that enqueued it: its attempts' spans continue that trace. */
  traceParent?: string | null;
}

export async function insertTask(
  client: Queryable,
  task: NewTask,
): Promise<{ task: TaskRow; created: boolean }> {
  const rows = await client.$queryRaw<Array<TaskRow & { created: boolean }>>`${PREPARED}
    WITH inserted AS (
      INSERT INTO tasks (type, priority, payload, "maxAttempts", "timeoutSeconds", "ownerId", "teamId",
                         "agentId", "topicId", "webhookUrl", "idempotencyKey", "runAt", "lastSequence",
                         "currentStep", "traceParent")
      VALUES (${task.type}, ${task.priority}::"TaskPriority", ${JSON.stringify(task.payload ?? {})}::jsonb,
              ${task.maxAttempts}, ${task.timeoutSeconds}, ${task.ownerId}::uuid,
              ${teamOf(task)},
              ${task.agentId ?? null}::uuid, ${task.topicId ?? null}::uuid,
              ${task.webhookUrl ?? null}, ${task.idempotencyKey ?? null},
              coalesce(${task.runAt ?? null}::timestamptz, now()), 1, 'queued',
              ${task.traceParent ?? null})
      ON CONFLICT ("ownerId", "idempotencyKey") WHERE "idempotencyKey" IS NOT NULL DO NOTHING
      RETURNING *
    ),
    event AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, 1, status, 0, 'queued', 'enqueued' FROM inserted
    )
    SELECT ${taskColumns('inserted')}, true AS created FROM inserted
    UNION ALL
    SELECT ${taskColumns('tasks')}, false AS created FROM tasks
    WHERE ${task.idempotencyKey ?? null}::text IS NOT NULL
      AND "ownerId" = ${task.ownerId}::uuid AND "idempotencyKey" = ${task.idempotencyKey ?? null}
      AND "teamId" = ${teamOf(task)}
      AND NOT EXISTS (SELECT 1 FROM inserted)`;
  // A concurrent request's insert with the same key committed while this statement waited
  // for it: its row is newer than this statement's snapshot, so a second statement reads it.
  const row = rows[0] ?? (await keptTask(client, task));
  if (!row) throw new Error('enqueue returned no row');
  const { created, ...taskRow } = row;
  return { task: taskRow, created };
}

/** The task's team: the one given, else the `default` team. */
const teamOf = (task: NewTask) =>
  Prisma.sql`coalesce(${task.teamId ?? null}::uuid, (SELECT id FROM teams WHERE slug = 'default'))`;

/** The task the key names, read anew; CONFLICT when it is of another team. */
async function keptTask(client: Queryable, task: NewTask) {
  if (!task.idempotencyKey) return undefined;
  const rows = await client.$queryRaw<Array<TaskRow & { created: boolean; sameTeam: boolean }>>`
    SELECT ${taskColumns('tasks')}, false AS created, "teamId" = ${teamOf(task)} AS "sameTeam"
    FROM tasks
    WHERE "ownerId" = ${task.ownerId}::uuid AND "idempotencyKey" = ${task.idempotencyKey}`;
  const [row] = rows;
  if (row && !row.sameTeam)
    throw conflict('idempotencyKey was used for another request', {
      field: 'idempotencyKey',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
  if (!row) return undefined;
  const { sameTeam: _sameTeam, ...kept } = row;
  return kept;
}

// What a worker records about its attempts, many tasks in one statement: a start, progress,
// or the attempt's end (COMPLETED with a result; FAILED, CANCELLED or TIMEOUT with an error;
// RETRY: back to PENDING after a backoff computed here, or DEAD once its attempts are spent;
// an interrupted one, PostgreSQL gone while it ran, spends the lost-lease budget instead; one
// whose cancellation was asked for while it ran ends CANCELLED, not retried),
// each with its event. At most one change per task per statement (the worker folds a start
// and progress into the end that follows them). Only while the worker still holds the task
// at that attempt: a stale worker's change is left out, and its row is not returned.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import {
  changedColumns,
  type ChangedColumns,
  type TaskEventJson,
  type ClaimedTaskRow,
} from './task-row.js';

interface ChangeBase {
  taskId: string;
  /** The attempt it concerns: a later attempt of the same task (the lease lost and won back) is left alone. */
  attempt: number;
  /** Set when the attempt's start is not recorded yet: how long ago it started (startedAt). */
  startedMsAgo?: number | null;
}

export type TaskChange = ChangeBase &
  (
    | { kind: 'START' }
    | { kind: 'PROGRESS'; percent: number; step: string | null }
    | { kind: 'COMPLETED'; result: unknown; message: string }
    | { kind: 'FAILED' | 'CANCELLED' | 'TIMEOUT'; error: string; message: string }
    | {
        kind: 'RETRY';
        error: string;
        /** The type's own wait; unset: the backoff. */ delayMs?: number | null;
        /**
         * The run failed because PostgreSQL went away under it, no fault of the task: it
         * spends the budget of lost leases (maxLeaseLosses), not its attempts, as a worker's
         * death does (reclaim-expired.ts).
         */
        interrupted?: boolean;
        /**
         * The run asked to run again later because what it waits on is unavailable for a
         * while (RetryLaterError: an LLM route cooling down), no fault of the task: it spends
         * the budget of postponements (maxPostponements), not its attempts, and `delayMs` is
         * that wait, not the backoff's.
         */
        postponed?: boolean;
      }
  );

export type TaskChangeKind = TaskChange['kind'];

/** A retry's backoff: exponential with full jitter, capped; and the budget of interruptions. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** Lost leases and interrupted runs a task may have before it is DEAD (TASK_MAX_LEASE_LOSSES). */
  maxLeaseLosses: number;
  /** Postponed runs a task may have before it is DEAD (TASK_MAX_POSTPONEMENTS). */
  maxPostponements: number;
}

/** What a change statement returns of a row (its CHANGED_COLUMNS), the change and its event. */
export type TaskChangeRow = ChangedColumns & {
  kind: TaskChangeKind;
  event: TaskEventJson;
  /** Recorded by its type's commit on its own rows, with no task row (task-row.ts, `rowless`). */
  rowless?: true;
};

/** A changed task: its claimed row (ClaimedTaskRow) with what the change made of it. */
export type ChangedTask = ClaimedTaskRow &
  ChangedColumns & { kind: TaskChangeKind; event: TaskEventJson };

/**
 * What the change made of the task: its claimed row `task`, updated in place with every one of
 * the CHANGED_COLUMNS of `row`, each by name. In place: the attempt that claimed the row is
 * over, and a copy of its 27 columns per task cost as much as parsing them had.
 */
export function changedTask(task: ClaimedTaskRow, row: TaskChangeRow): ChangedTask {
  const changed = task as ChangedTask;
  changed.id = row.id;
  changed.status = row.status;
  changed.progressPercent = row.progressPercent;
  changed.currentStep = row.currentStep;
  changed.attempts = row.attempts;
  changed.leaseLosses = row.leaseLosses;
  changed.postponements = row.postponements;
  changed.runAt = row.runAt;
  changed.lockedBy = row.lockedBy;
  changed.lockedUntil = row.lockedUntil;
  changed.result = row.result;
  changed.error = row.error;
  changed.cancellationRequested = row.cancellationRequested;
  changed.lastSequence = row.lastSequence;
  changed.updatedAt = row.updatedAt;
  changed.startedAt = row.startedAt;
  changed.completedAt = row.completedAt;
  changed.kind = row.kind;
  changed.event = row.event;
  if (row.rowless) changed.rowless = true;
  return changed;
}

/**
 * Puts on a changed row (as its statement returned it, `eventMessage` and `startEventAt` beside
 * its columns) the event it wrote: its `at` is the row's updatedAt, the statement's now(),
 * except a start's, `startEventAt` (changeCtes's `described`); each rounded to the millisecond.
 */
export function withChangeEvent<
  T extends ChangedColumns & {
    kind: TaskChangeKind;
    eventMessage: string | null;
    startEventAt: Date | null;
  },
>(row: T): T & { event: TaskEventJson } {
  const changed = row as T & { event: TaskEventJson };
  changed.event = {
    taskId: row.id,
    sequence: row.lastSequence,
    status: row.status,
    progressPercent: row.progressPercent,
    currentStep: row.currentStep,
    message: row.eventMessage,
    at: (row.startEventAt ?? row.updatedAt).toISOString(),
  };
  return changed;
}

/**
 * One entry of a task's attemptLog (tasks `t` in the statement), for the attempt that ends in
 * it: which it was, who ran it, when it started and ended, how it ended and why. `workerId`
 * and `endedAt`: the worker's lease and the statement's now() unless given.
 *
 * An attempt that ends the task COMPLETED, FAILED or TIMEOUT (the most common end by far) is
 * not appended: the row's own columns describe it (attempts, workerId, startedAt,
 * completedAt, status, error), and Task.attemptHistory reads it from them (attemptHistoryOf).
 * Building the entry was about a tenth of a no-op task's completing statement
 * (bench/README.md, "Queue"). Those three statuses are reached by a worker's end only; an
 * operator's retry appends the entry before it resets the row (retry-finished-task.ts).
 */
export function attemptEntry(
  startedAt: Prisma.Sql,
  outcome: Prisma.Sql,
  error: Prisma.Sql,
  at: { workerId?: Prisma.Sql; endedAt?: Prisma.Sql } = {},
) {
  return Prisma.sql`jsonb_build_array(jsonb_build_object(
    'attempt', t.attempts, 'workerId', ${at.workerId ?? Prisma.sql`t."lockedBy"`},
    'startedAt', to_char((${startedAt}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'endedAt', to_char((${at.endedAt ?? Prisma.sql`now()`}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'outcome', ${outcome}, 'error', ${error}))`;
}

/** The statuses whose last attempt the row itself describes, not its attemptLog (see attemptEntry). */
export const ATTEMPT_IN_ROW_STATUSES = ['COMPLETED', 'FAILED', 'TIMEOUT'] as const;

/**
 * The changes as the CTE `change`, one row each, in id order: the statement locks their tasks
 * in that order (see held). Sent as one JSON array of the change objects as they are: ten
 * parallel arrays cost node-postgres an array literal each, element by element (a twentieth
 * of a busy worker's garbage), where JSON.stringify writes one string.
 */
function changeRows(changes: readonly TaskChange[]): Prisma.Sql {
  const byId = [...changes].sort((a, b) =>
    a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0,
  );
  // A key a change does not have reads as NULL; a JSON null too (a result of null is
  // written as JSON's null by the update).
  return Prisma.sql`
    change AS (
      SELECT c."taskId" AS id, c.attempt, c.kind, c.result, c.error, c.message, c.percent, c.step,
             c."startedMsAgo" AS started_ms_ago, c."delayMs" AS delay_ms,
             coalesce(c.interrupted, false) AS interrupted, coalesce(c.postponed, false) AS postponed
      FROM json_to_recordset(${JSON.stringify(byId)}::json) AS c(
        "taskId" uuid, attempt int, kind text, result jsonb, error text, message text,
        percent int, step text, "startedMsAgo" float8, "delayMs" float8, interrupted boolean,
        postponed boolean)
    )`;
}

/** How a retried attempt ended, as its event says it: "attempt N interrupted" and the like. */
const retriedAttempt = Prisma.sql`'attempt ' || attempts
  || CASE WHEN interrupted THEN ' interrupted' WHEN postponed THEN ' postponed' ELSE ' failed' END`;

/** A changed row's event message (null: progress, whose event says it in its columns). */
const eventMessage = (workerId: string) => Prisma.sql`
  CASE kind
    WHEN 'START' THEN 'attempt ' || attempts || ' started by ' || ${workerId}
    WHEN 'PROGRESS' THEN NULL
    WHEN 'RETRY' THEN CASE
      WHEN status = 'CANCELLED' THEN ${retriedAttempt} || '; cancelled as asked, not retried'
      WHEN interrupted AND status = 'DEAD' THEN 'interrupted ' || "leaseLosses" || ' times: ' || error
      WHEN postponed AND status = 'DEAD' THEN 'postponed ' || postponements || ' times: ' || error
      WHEN status = 'DEAD' THEN 'attempts exhausted: ' || error
      ELSE ${retriedAttempt} || ', retry at ' || to_char("runAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END
    ELSE "changeMessage" END`;

/** The changes as CTEs (`described` holds the changed rows and their events' messages). */
export function changeCtes(
  workerId: string,
  changes: readonly TaskChange[],
  backoff: Backoff,
): Prisma.Sql {
  return Prisma.sql`
    ${changeRows(changes)},
    held AS (
      -- Each change with its task, found by key and locked, one change after the other in id
      -- order (the changes are sorted by id), as a shutdown's hand-back locks: multi-row
      -- updates in different orders deadlock (the heartbeat skips locked rows). OFFSET 0 keeps
      -- the lookup per change, and the status out of it keeps the partial index of running
      -- tasks out of it: joined freely, the cached generic plan (guessing one running task)
      -- scanned the whole change list once per task, 71 of 80 ms at 512 changes
      -- (bench/README.md, "Queue"). A task with this worker's lease is RUNNING: the status
      -- check below only guards that.
      SELECT t.id, c.kind, c.result, c.error, c.message, c.percent, c.step, c.started_ms_ago,
             c.delay_ms, c.interrupted, c.postponed, t."updatedAt" AS previous_update,
             -- A failed run whose cancellation was asked for meanwhile is not run again.
             c.kind = 'RETRY' AND t."cancellationRequested" AS cancelled,
             c.kind = 'RETRY' AND CASE WHEN c.interrupted
               THEN t."leaseLosses" + 1 >= ${backoff.maxLeaseLosses}
               WHEN c.postponed THEN t.postponements + 1 >= ${backoff.maxPostponements}
               ELSE t.attempts - t."leaseLosses" - t.postponements >= t."maxAttempts" END AS dead
      FROM change c
      CROSS JOIN LATERAL (
        SELECT id, status, attempts, "leaseLosses", postponements, "maxAttempts",
               "cancellationRequested", "updatedAt" FROM tasks
        WHERE id = c.id AND "lockedBy" = ${workerId} AND attempts = c.attempt
        OFFSET 0
      ) t
      WHERE t.status = 'RUNNING'
      FOR UPDATE OF t
    ),
    changed AS (
      UPDATE tasks t
      SET status = CASE
            WHEN h.kind IN ('START', 'PROGRESS') THEN t.status
            WHEN h.cancelled THEN 'CANCELLED'::"TaskStatus"
            WHEN h.dead THEN 'DEAD'::"TaskStatus"
            WHEN h.kind = 'RETRY' THEN 'PENDING'::"TaskStatus"
            ELSE h.kind::"TaskStatus" END,
          result = CASE WHEN h.kind = 'COMPLETED' THEN coalesce(h.result, 'null') ELSE t.result END,
          error = CASE WHEN h.kind IN ('START', 'PROGRESS', 'COMPLETED') THEN t.error ELSE h.error END,
          "progressPercent" = CASE h.kind
            WHEN 'PROGRESS' THEN h.percent WHEN 'COMPLETED' THEN 100 ELSE t."progressPercent" END,
          "currentStep" = CASE
            WHEN h.kind = 'START' THEN 'starting'
            WHEN h.kind = 'PROGRESS' THEN h.step
            WHEN h.cancelled THEN 'cancelled'
            WHEN h.dead THEN 'dead'
            WHEN h.kind = 'RETRY' THEN 'waiting to retry'
            ELSE lower(h.kind) END,
          "runAt" = CASE WHEN h.kind = 'RETRY' AND NOT h.dead AND NOT h.cancelled AND h.delay_ms IS NOT NULL
            THEN now() + h.delay_ms * interval '1 millisecond'
            WHEN h.kind = 'RETRY' AND NOT h.dead AND NOT h.cancelled
            THEN now() + least(${backoff.maxMs}::float8, ${backoff.baseMs}::float8
                               * power(2, greatest(t.attempts - t."leaseLosses" - t.postponements - 1
                                                   - CASE WHEN h.interrupted THEN 1 ELSE 0 END, 0)))
                         * (0.5 + random() / 2) * interval '1 millisecond'
            ELSE t."runAt" END,
          "leaseLosses" = t."leaseLosses" + CASE WHEN h.interrupted THEN 1 ELSE 0 END,
          postponements = t.postponements + CASE WHEN h.postponed THEN 1 ELSE 0 END,
          "lockedBy" = CASE WHEN h.kind IN ('START', 'PROGRESS') THEN t."lockedBy" END,
          "lockedUntil" = CASE WHEN h.kind IN ('START', 'PROGRESS') THEN t."lockedUntil" END,
          "startedAt" = CASE WHEN h.started_ms_ago IS NULL THEN t."startedAt"
            ELSE now() - h.started_ms_ago * interval '1 millisecond' END,
          "completedAt" = CASE
            WHEN h.kind IN ('START', 'PROGRESS') OR (h.kind = 'RETRY' AND NOT h.dead AND NOT h.cancelled)
            THEN NULL
            ELSE now() END,
          -- Only retries (dead or not) and cancellations: the row describes the rest (attemptEntry).
          "attemptLog" = CASE WHEN h.kind IN ('RETRY', 'CANCELLED')
            THEN t."attemptLog" || ${attemptEntry(
              Prisma.sql`CASE WHEN h.started_ms_ago IS NULL THEN t."startedAt"
                              ELSE now() - h.started_ms_ago * interval '1 millisecond' END`,
              Prisma.sql`CASE WHEN h.interrupted THEN 'INTERRUPTED' WHEN h.postponed THEN 'POSTPONED'
                              WHEN h.kind = 'RETRY' THEN 'FAILED' ELSE h.kind END`,
              Prisma.sql`h.error`,
            )} ELSE t."attemptLog" END,
          "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
      FROM held h
      -- The id list as well as the join, as the claim does: the rows are found by their key
      -- whatever the cached generic plan guessed (joined alone, it hash-joined a sequential
      -- scan of the table when the table looked small: 0.5 of a lone end's 0.8 ms).
      WHERE t.id = h.id AND t.id = ANY(ARRAY(SELECT id FROM held))
      -- The changed columns only: the rest is not read again (a row copied whole per task).
      RETURNING ${changedColumns('t')}, h.kind, h.message AS "changeMessage", h.interrupted,
                h.postponed, h.previous_update
    ),
    ${eventCtes(workerId)}`;
}

/** Each changed row's event (`changed` to `described`, written as `change_event`). */
function eventCtes(workerId: string): Prisma.Sql {
  return Prisma.sql`
    described AS (
      -- A start's event is dated when the attempt began (its startedAt, a moment before this
      -- record), but never before the task's last event: one written meanwhile (a cancellation
      -- asked for) has the smaller sequence, and the log's times go forward with its sequence.
      SELECT *, ${eventMessage(workerId)} AS "eventMessage",
             CASE WHEN kind = 'START'
               THEN greatest(coalesce("startedAt", now()), previous_update) END AS "startEventAt"
      FROM changed
    ),
    change_event AS (
      -- at: now(), the statement's, but a start's (above); as the copy says (withChangeEvent).
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message, at)
      SELECT id, "lastSequence", status, "progressPercent", "currentStep", "eventMessage",
             coalesce("startEventAt", now())
      FROM described
    )`;
}

/** Writes the changes; returns the rows changed (a task this worker no longer holds is not). */
export async function writeTaskChanges(
  client: Queryable,
  workerId: string,
  changes: readonly TaskChange[],
  backoff: Backoff,
): Promise<TaskChangeRow[]> {
  if (changes.length === 0) return [];
  const rows = await client.$queryRaw<
    Array<
      ChangedColumns & {
        kind: TaskChangeKind;
        eventMessage: string | null;
        startEventAt: Date | null;
      }
    >
  >`${PREPARED}
    WITH ${changeCtes(workerId, changes, backoff)}
    SELECT ${changedColumns('c')}, c.kind, c."eventMessage", c."startEventAt" FROM described c`;
  return rows.map(withChangeEvent);
}

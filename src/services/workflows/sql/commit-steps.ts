// A worker's commit of steps whose tasks completed, in one statement after their tasks' ends
// and their workflows' locks (a statement reads the snapshot taken at its start, so the lock
// comes in one of its own before): each step SUCCEEDED with its result, its dependents counted
// down (those left waiting on none READY), READY steps given tasks up to each workflow's
// maxParallelSteps, a workflow with nothing left ended, every change an event of its
// workflow's log, and the worker's claim. Each step row is updated once (its end, its count-
// down with READY and its task, or its task alone), each workflow row once (its log's new end,
// its own end).
//
// The steps this commit makes runnable go to the worker (continuations: it ran their parents
// and has room), up to `continuations`, their tasks claimed by it and not written yet: the
// step carries their lease ("leaseUntil") and the worker writes the row, RUNNING under its
// lease, before anything else of the run (its start, progress, a failure, a hand-back:
// writeUnwrittenSteps); a run that ends first never has one: its end is recorded on its step
// alone (`ends[].unwritten`), which holds all a task row would (attempt, start, end, result).
// A task row, its event and their index entries were a third of what a no-op step cost
// (bench/README.md, "Workflows"). The others are PENDING for any worker, with their "enqueued"
// event.
// The rest of the claim takes the queue in its order (rows this statement inserts are not in
// its snapshot) and starts first: continuations take the free slots it leaves. Every claimed
// step task comes with what its run reads of its step, so no run reads it again.
//
// Every time it writes is its transaction's (now()), as its tasks' ends, its events and its
// workflows' ends are: a step ends when its task does, and a continuation starts then (a time
// of its own, clock_timestamp(), put a step's end after its task's, its events' and its
// workflow's end, by as long as the transaction had taken to reach it).
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import { claimCtes, type Claim } from '../../../queue/claim.js';
import {
  claimedTaskColumns,
  claimedTaskColumnsOf,
  nullTaskColumns,
  type ClaimedTaskRow,
} from '../../../queue/task-row.js';
import { STEP_TASK_COLUMNS, STEP_TASKS, stepTaskValues } from './dispatch-ready.js';
import { stepIsLive, stepToRunJson } from './read-steps-to-run.js';

export interface CompletedStepTask {
  taskId: string;
  result: unknown;
  /** {seconds, tokens, costUsd} */
  actual: unknown;
  /** Its task's attempt and start, for a step whose start was not recorded; null: unknown. */
  attempt: number | null;
  startedAt: Date | null;
  /** A continuation whose task row was never written: none is, the step records its run. */
  unwritten?: boolean;
}

export interface StepsClaim extends Claim {
  workerId: string;
  /** At most this many of the tasks the commit makes go to the worker; `limit` less these is the rest of its claim. */
  continuations: number;
}

export interface CommittedSteps {
  /** Claimed tasks as the worker starts them: the queue's in claim order, then continuations. */
  claimed: ClaimedTaskRow[];
  /** Workflow id → its log's new last sequence. */
  logs: Array<{ workflowId: string; lastSequence: number }>;
  /** Tasks made PENDING for any worker (their "enqueued" event is sequence 1). */
  queued: Array<{ id: string; lastSequence: number }>;
  /** How many of the claimed tasks this commit made (the first ones). */
  continued: number;
  /** The ends recorded on their steps alone (`unwritten`, on a live step), at the statement's now(). */
  rowless: { ids: string[]; at: Date };
}

type Row = ClaimedTaskRow & { turn: 'claimed' | 'signals'; part: number };

export async function commitSteps(
  client: Queryable,
  workflowIds: readonly string[],
  ends: readonly CompletedStepTask[],
  claim: StepsClaim,
): Promise<CommittedSteps> {
  const rows = await client.$queryRaw<Row[]>`${PREPARED}
    WITH ${endedCtes(workflowIds, ends)},
         ${dispatchCtes(claim)},
         ${logCtes()},
         ${claimCtes(claim.workerId, claim, {
           limit: Prisma.sql`greatest(0, ${claim.limit}
             - (SELECT count(*) FROM dispatched WHERE n <= ${Math.max(0, claim.continuations)}))`,
           startNow: Prisma.sql`${claim.startNow}`,
         })},
         ${continuationCtes(claim)}
    -- The queue's claim first (in claim order: its first startNow started), the continuations
    -- after it (they start in the free slots it left): the order the local queue starts them in.
    SELECT * FROM (
      SELECT 'claimed' AS turn, 0 AS part,
             row_number() OVER (ORDER BY c.priority, c."runAt", c."createdAt", c.id) AS ord, ${claimedTaskColumns('c')},
             greatest(extract(epoch FROM coalesce(c."startedAt", now()) - c."readyAt"), 0)::float8
               AS "queueWaitSeconds",
             q.prefetched
      FROM claimed c
      -- A step the queue's claim brought, read here as read-steps-to-run.ts would (still live
      -- on this task, in a RUNNING workflow): its run then needs no statement of its own. The
      -- cast only for step tasks: another type's payload may hold anything.
      LEFT JOIN LATERAL (
        SELECT ${stepToRunJson('s', 'l')} AS prefetched
        FROM workflow_steps s JOIN workflows l ON l.id = s."workflowId"
        WHERE s.id = CASE WHEN c.type = ${STEP_TASKS.type} THEN (c.payload->>'stepId')::uuid END
          AND s."taskId" = c.id AND ${stepIsLive('s', 'l')}
      ) q ON true
      UNION ALL
      SELECT 'claimed', 1, row_number() OVER (ORDER BY s."workflowId", s.position),
             ${unwrittenTaskColumns()}, 0::float8,
             -- What its run reads (read-steps-to-run.ts), as of the commit that made it READY.
             ${stepToRunJson('s', 'l')}
      -- Each step by key from the continuation: a join of two CTEs (each estimated at a row or
      -- two) was a nested loop over both, a million comparisons in a fan-out of a thousand.
      FROM continued c JOIN workflow_steps s ON s.id = c.id
      JOIN workflows l ON l.id = s."workflowId"
      WHERE c.mine
      UNION ALL
      -- The signals in one row (a fan-out's thousand new tasks are one array, not rows).
      SELECT 'signals', 2, 0, ${nullTaskColumns()}, NULL,
             json_build_object(
               'queued', (SELECT coalesce(json_agg(t.id), '[]') FROM inserted_tasks t),
               'rowless', (SELECT coalesce(json_agg(d."taskId"), '[]') FROM done d WHERE d.unwritten),
               'at', now(),
               'logs', (SELECT coalesce(json_agg(json_build_object('workflowId', b.id,
                                                                   'lastSequence', b."lastSequence")), '[]')
                        FROM bumped b))
    ) r ORDER BY part, ord`;
  const committed: CommittedSteps = {
    claimed: [],
    logs: [],
    queued: [],
    continued: 0,
    rowless: { ids: [], at: new Date() },
  };
  for (const row of rows) {
    if (row.turn === 'claimed') {
      committed.claimed.push(row);
      if (row.part === 1) {
        committed.continued++;
        row.unwritten = true;
      }
    } else {
      const signals = row.prefetched as {
        queued: string[];
        logs: CommittedSteps['logs'];
        rowless: string[];
        at: string;
      };
      // Each queued task's log is its "enqueued" event.
      committed.queued = signals.queued.map((id) => ({ id, lastSequence: 1 }));
      committed.logs = signals.logs;
      committed.rowless = { ids: signals.rowless, at: new Date(signals.at) };
    }
  }
  return committed;
}

/**
 * The ended steps (`done`: live on their tasks, in RUNNING workflows), their workflows
 * (`live`), and their dependents counted down (`children`, `ready` at 0).
 */
function endedCtes(workflowIds: readonly string[], ends: readonly CompletedStepTask[]): Prisma.Sql {
  const taskIds = ends.map((each) => each.taskId);
  const results = ends.map((each) =>
    each.result === undefined ? null : JSON.stringify(each.result),
  );
  const actuals = ends.map((each) => JSON.stringify(each.actual ?? null));
  const attempts = ends.map((each) => each.attempt);
  const startedAts = ends.map((each) => each.startedAt?.toISOString() ?? null);
  const unwritten = ends.map((each) => each.unwritten === true);
  return Prisma.sql`
    input AS (
      SELECT * FROM unnest(${taskIds}::uuid[], ${results}::jsonb[], ${actuals}::jsonb[],
                           ${attempts}::int[], ${startedAts}::timestamptz[], ${unwritten}::boolean[])
        AS i("taskId", result, actual, attempt, "startedAt", unwritten)
    ),
    -- Each ended task's step, found from the task (a probe of the taskId index each), in a CTE
    -- of its own: joined to the workflows in one query, the planner (a generic plan, the unnest
    -- estimated at 10 rows) reached them from each workflow's open steps instead, a scan of
    -- hundreds of steps per workflow; and the steps found by their id list first, estimated at
    -- a row, were joined to the unnest run again for each (a 280-step commit spent 20 of its
    -- 78 ms there: bench/README.md, "Workflows").
    by_task AS MATERIALIZED (
      SELECT s.id, s."workflowId", s.key, s.status, s.attempts,
             i.result, i.actual, i.attempt, i."startedAt", i."taskId", i.unwritten
      FROM input i JOIN workflow_steps s ON s."taskId" = i."taskId"
      WHERE s.status IN ('READY', 'RUNNING')
    ),
    -- The workflows of the ended tasks, each step's live or not (dispatched, or ended).
    live AS MATERIALIZED (
      SELECT w.id, w."teamId", w."ownerId", w."maxParallelSteps", w."replanTaskId", w.goal, w."planVersion",
             w."apiKeyId"
      FROM workflows w
      WHERE w.id = ANY(${[...new Set(workflowIds)]}::uuid[]) AND w.status = 'RUNNING'
    ),
    -- A step's workflow from \`live\` (the few rows read once, by key): joined to \`workflows\`,
    -- the generic plan read the index of RUNNING workflows once per step (keyed on updatedAt,
    -- which every commit changes, so it holds a version per commit until vacuum).
    done AS MATERIALIZED (
      SELECT s.id, s."workflowId", s.key, s.result, s.actual,
             coalesce(s.attempt, s.attempts) AS attempts, s."startedAt", s."taskId", s.unwritten,
             w."teamId", w."ownerId",
             -- Unstarted: its start (this attempt's, for a retried step) was never written.
             s.status = 'READY' OR s.attempts < s.attempt AS unstarted
      FROM by_task s JOIN live w ON w.id = s."workflowId"
    ),
    released AS (
      SELECT e."childId", count(*)::int AS n FROM workflow_step_edges e JOIN done d ON d.id = e."parentId"
      GROUP BY e."childId"
    ),
    children AS MATERIALIZED (
      SELECT c.id, c."workflowId", c.key, c.position, c."waitingOn" - r.n AS "waitingOn",
             c.status = 'PENDING' AND c."waitingOn" - r.n <= 0 AS ready
      FROM released r JOIN workflow_steps c ON c.id = r."childId"
    )`;
}

/**
 * READY steps given tasks within each workflow's room (`dispatched`, numbered `n` in the order
 * the worker takes them), and every step row changed once (`steps_changed`).
 */
function dispatchCtes(claim: StepsClaim): Prisma.Sql {
  // The continuations' lease, on their steps until their task rows are written.
  const leaseUntil = Prisma.sql`CASE WHEN p.n <= ${Math.max(0, claim.continuations)}
    THEN now() + ${claim.leaseMs} * interval '1 millisecond' END`;
  return Prisma.sql`
    -- Each workflow's room: maxParallelSteps less its steps with a task that stay open (the
    -- ended ones close here); none while it awaits a replan (what has not started waits).
    room AS MATERIALIZED (
      SELECT l.id, l."teamId", l."ownerId",
             CASE WHEN l."replanTaskId" IS NOT NULL THEN 0 ELSE greatest(0, l."maxParallelSteps" - (
               -- A FILTER, not a WHERE: the live-steps index reads the workflow's few open steps.
               SELECT count(*) FILTER (WHERE s."taskId" IS NOT NULL) FROM workflow_steps s
               WHERE s."workflowId" = l.id AND s.status IN ('READY', 'RUNNING'))
               + (SELECT count(*) FROM done d WHERE d."workflowId" = l.id)) END AS room
      FROM live l
    ),
    candidates AS (
      SELECT s.id, s."workflowId", s.position, false AS fresh FROM workflow_steps s
      WHERE s."workflowId" IN (SELECT id FROM room WHERE room > 0) AND s.status = 'READY'
        AND s."taskId" IS NULL
      UNION ALL
      SELECT c.id, c."workflowId", c.position, true FROM children c WHERE c.ready
    ),
    dispatched AS MATERIALIZED (
      SELECT x.id, x."workflowId", x.fresh, r."teamId", r."ownerId", gen_random_uuid() AS "taskId",
             row_number() OVER (ORDER BY x."workflowId", x.position) AS n
      FROM (SELECT c.*, row_number() OVER (PARTITION BY c."workflowId" ORDER BY c.position) AS rank
            FROM candidates c) x
      JOIN room r ON r.id = x."workflowId"
      WHERE x.rank <= r.room
    ),
    step_change AS (
      SELECT d.id, 'done' AS change, NULL::int AS "waitingOn", false AS ready, NULL::uuid AS "taskId",
             NULL::timestamptz AS "leaseUntil", d.result, d.actual, d.attempts, d."startedAt"
      FROM done d
      UNION ALL
      SELECT c.id, 'child', c."waitingOn", c.ready, p."taskId", ${leaseUntil}, NULL, NULL, NULL, NULL
      FROM children c LEFT JOIN dispatched p ON p.id = c.id
      UNION ALL
      SELECT p.id, 'dispatch', NULL, false, p."taskId", ${leaseUntil}, NULL, NULL, NULL, NULL
      FROM dispatched p WHERE NOT p.fresh
    ),
    steps_changed AS (
      UPDATE workflow_steps s
      SET status = CASE WHEN x.change = 'done' THEN 'SUCCEEDED'::"WorkflowStepStatus"
                        WHEN x.ready THEN 'READY'::"WorkflowStepStatus" ELSE s.status END,
          "waitingOn" = coalesce(x."waitingOn", s."waitingOn"),
          "taskId" = coalesce(x."taskId", s."taskId"),
          "leaseUntil" = CASE WHEN x.change = 'done' THEN NULL WHEN x."taskId" IS NOT NULL
            THEN x."leaseUntil" ELSE s."leaseUntil" END,
          result = CASE WHEN x.change = 'done' THEN x.result ELSE s.result END,
          error = CASE WHEN x.change = 'done' THEN NULL ELSE s.error END,
          actual = CASE WHEN x.change = 'done' THEN x.actual ELSE s.actual END,
          attempts = coalesce(x.attempts, s.attempts),
          "startedAt" = CASE WHEN x.change = 'done'
            THEN coalesce(s."startedAt", x."startedAt", now()::timestamptz(3)) ELSE s."startedAt" END,
          -- To the millisecond, as its task's (a column of microseconds would read 1 ms off).
          "completedAt" = CASE WHEN x.change = 'done' THEN now()::timestamptz(3) ELSE s."completedAt" END
      FROM step_change x WHERE s.id = x.id
      RETURNING s.id
    )`;
}

/** Workflows with nothing left end (`finished`); the events are appended, each workflow row updated once (`bumped`). */
function logCtes(): Prisma.Sql {
  return Prisma.sql`
    finished AS (
      SELECT l.id,
             EXISTS (SELECT 1 FROM workflow_steps s
                     WHERE s."workflowId" = l.id AND s.status IN ('FAILED', 'CANCELLED')) AS failed
      FROM live l
      WHERE l."replanTaskId" IS NULL
        AND NOT EXISTS (SELECT 1 FROM workflow_steps s
                        WHERE s."workflowId" = l.id AND s.status IN ('PENDING', 'READY', 'RUNNING')
                          AND s.id NOT IN (SELECT id FROM done))
    ),
    new_events AS (
      SELECT e.*, row_number() OVER (PARTITION BY e."workflowId" ORDER BY e.ord, e."stepKey") AS n,
             count(*) OVER (PARTITION BY e."workflowId") AS total
      FROM (
        SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", 'RUNNING' AS status, 0 AS "progressPercent",
               'attempt ' || attempts || ' started' AS message, 0 AS ord
        FROM done WHERE unstarted AND attempts > 0
        UNION ALL
        SELECT "workflowId", 'STEP', key, 'SUCCEEDED', 100, 'succeeded', 1 FROM done
        UNION ALL
        SELECT "workflowId", 'STEP', key, 'READY', 0, 'ready: its dependencies are done', 2 + position
        FROM children WHERE ready
        UNION ALL
        SELECT id, 'WORKFLOW', NULL, CASE WHEN failed THEN 'FAILED' ELSE 'SUCCEEDED' END,
               CASE WHEN failed THEN 0 ELSE 100 END,
               CASE WHEN failed THEN 'steps failed or were cancelled' ELSE 'every step is done' END,
               2147483647
        FROM finished
      ) e
    ),
    bumped AS (
      UPDATE workflows w
      SET "lastSequence" = w."lastSequence" + c.total, "updatedAt" = now(),
          status = CASE WHEN f.id IS NULL THEN w.status
                        WHEN f.failed THEN 'FAILED'::"WorkflowStatus" ELSE 'SUCCEEDED'::"WorkflowStatus" END,
          error = CASE WHEN f.failed THEN 'steps failed or were cancelled' WHEN f.id IS NULL THEN w.error END,
          "completedAt" = CASE WHEN f.id IS NULL THEN w."completedAt" ELSE now() END
      FROM (SELECT DISTINCT "workflowId", total FROM new_events) c
      LEFT JOIN finished f ON f.id = c."workflowId"
      WHERE w.id = c."workflowId"
      RETURNING w.id, w."lastSequence"
    ),
    appended AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT e."workflowId", b."lastSequence" - e.total + e.n, e.kind, e."stepKey", e.status, e."progressPercent",
             e.message
      FROM new_events e JOIN bumped b ON b.id = e."workflowId"
    )`;
}

/**
 * The tasks of the dispatched steps: the first `continuations` (`mine`) claimed by the worker
 * and not written (unwrittenTaskColumns; started in the free slots the queue's claim left), the
 * others PENDING with their "enqueued" events (`inserted_tasks`). After the claim's CTEs: it
 * counts their starts.
 */
function continuationCtes(claim: StepsClaim): Prisma.Sql {
  const continuations = Math.max(0, claim.continuations);
  return Prisma.sql`
    continued AS MATERIALIZED (
      SELECT p.*, p.n <= ${continuations} AS mine,
             p.n <= ${claim.startNow} - (SELECT count(*) FROM claimed WHERE "startedAt" IS NOT NULL)
               AS "startsNow"
      FROM dispatched p
    ),
    inserted_tasks AS (
      INSERT INTO tasks (${STEP_TASK_COLUMNS}, status, "lastSequence", "currentStep")
      SELECT ${stepTaskValues(stepTaskOf('c'))}, 'PENDING', 1, 'queued'
      FROM continued c WHERE NOT c.mine
      RETURNING id
    ),
    inserted_task_events AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, 1, 'PENDING', 0, 'queued', 'enqueued' FROM inserted_tasks
    )`;
}

/** The step task of the step `alias` (a dispatched or a done one: its taskId, workflow, owner, team). */
const stepTaskOf = (alias: string) => ({
  taskId: Prisma.raw(`${alias}."taskId"`),
  workflowId: Prisma.raw(`${alias}."workflowId"`),
  stepId: Prisma.raw(`${alias}.id`),
  ownerId: Prisma.raw(`${alias}."ownerId"`),
  teamId: Prisma.raw(`${alias}."teamId"`),
});

/** A continuation `c`'s claimed row, as its insert would have written it (write-unwritten-steps.ts). */
function unwrittenTaskColumns(): Prisma.Sql {
  return claimedTaskColumnsOf({
    id: Prisma.sql`c."taskId"`,
    type: Prisma.sql`${STEP_TASKS.type}::text`,
    status: Prisma.sql`'RUNNING'::"TaskStatus"`,
    priority: Prisma.sql`${STEP_TASKS.priority}::"TaskPriority"`,
    payload: Prisma.sql`jsonb_build_object('workflowId', c."workflowId", 'stepId', c.id)`,
    progressPercent: Prisma.sql`0`,
    currentStep: Prisma.sql`'queued'::text`,
    attempts: Prisma.sql`1`,
    maxAttempts: Prisma.sql`${STEP_TASKS.maxAttempts}::int`,
    timeoutSeconds: Prisma.sql`${STEP_TASKS.timeoutSeconds}::int`,
    cancellationRequested: Prisma.sql`false`,
    lastSequence: Prisma.sql`0`,
    ownerId: Prisma.sql`c."ownerId"`,
    teamId: Prisma.sql`c."teamId"`,
    // To the millisecond, as the column stores it (a step's start is its task's).
    startedAt: Prisma.sql`CASE WHEN c."startsNow" THEN now()::timestamptz(3) END`,
    leaseLosses: Prisma.sql`0`,
    unstartedLeaseLosses: Prisma.sql`0`,
    postponements: Prisma.sql`0`,
  });
}

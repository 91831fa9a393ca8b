// A step's task started an attempt: the step is RUNNING (with its attempt count), and says so
// in its log. Only while the step is live on that task; many steps in one statement (a
// worker's starts batch together). Returns what the run needs of each step and its workflow.
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import { runsOnTask } from './run-fence.js';
import { holdsLease } from '../../../queue/lease-fence.js';
import { appendEventsCtes } from './append-events.js';

export interface StartedStep {
  id: string;
  workflowId: string;
  key: string;
  kind: string;
  agentId: string | null;
  input: unknown;
  dependsOn: string[];
  goal: string;
  teamId: string;
  ownerId: string;
  planVersion: number;
  /** The key that started the workflow (its LLM budgets apply to the step's calls). */
  apiKeyId: string | null;
}

/**
 * Which run of a step's task writes: its attempt under its worker's lease. A start or progress
 * is written only while the task is RUNNING at that attempt under that worker's lease
 * (src/queue/lease-fence.ts): a run that lives on past its lease (its worker froze, another
 * took the task back) writes no stale start after the next attempt's.
 */
export interface StepRun {
  taskId: string;
  attempt: number;
  workerId: string;
}

export interface StepStart extends StepRun {
  stepId: string;
  /** When its run began (Date.now() in this process); unset: now. */
  runStartedAt?: number;
}

/**
 * A step's RUNNING events ("attempt N started"; ord 0, before any other event the statement
 * writes) for the rows of the CTE `from` ("workflowId", key, attempts) that `where` keeps: the
 * starts marked here, or those an end writes because it finds them missing.
 */
export function startEvents(from: string, where = ''): Prisma.Sql {
  return Prisma.raw(`
      SELECT "workflowId", 'STEP' AS kind, key AS "stepKey", 'RUNNING' AS status, 0 AS "progressPercent",
             'attempt ' || attempts || ' started' AS message, 0 AS ord
      FROM ${from} ${where}`);
}

export async function markStepsRunning(
  client: Queryable,
  starts: readonly StepStart[],
): Promise<Array<StartedStep & { lastSequence: number | null }>> {
  if (starts.length === 0) return [];
  const stepIds = starts.map((each) => each.stepId);
  const taskIds = starts.map((each) => each.taskId);
  const attempts = starts.map((each) => each.attempt);
  const workerIds = starts.map((each) => each.workerId);
  // Written some time into the run (tasks/step.ts): its startedAt is when the run began.
  const now = Date.now();
  const msAgo = starts.map((each) => Math.max(0, now - (each.runStartedAt ?? now)));
  return client.$queryRaw`${PREPARED}
    WITH input AS (
      SELECT * FROM unnest(${stepIds}::uuid[], ${taskIds}::uuid[], ${attempts}::int[],
                           ${msAgo}::float8[], ${workerIds}::text[])
        AS i("stepId", "taskId", attempt, "msAgo", "workerId")
    ),
    locked AS (
      SELECT w.id, w.goal, w."teamId", w."ownerId", w."planVersion", w."apiKeyId" FROM workflows w
      WHERE w.id IN (SELECT s."workflowId" FROM workflow_steps s JOIN input i ON i."stepId" = s.id)
        AND w.status = 'RUNNING'
      ORDER BY w.id FOR UPDATE
    ),
    started AS (
      UPDATE workflow_steps s
      SET status = 'RUNNING', attempts = i.attempt,
          -- now(): the statement's start, when msAgo was measured (a wait for the workflow's
          -- lock inside it would move clock_timestamp() on, and the start with it).
          "startedAt" = coalesce(s."startedAt", now() - i."msAgo" * interval '1 millisecond')
      FROM input i
      WHERE s.id = i."stepId" AND s."taskId" = i."taskId" AND s.status IN ('READY', 'RUNNING')
        AND s."workflowId" IN (SELECT id FROM locked)
        AND ${runsOnTask('s', Prisma.sql`i."taskId"`, holdsLease('t', Prisma.sql`i."workerId"`, Prisma.sql`i.attempt`))}
      RETURNING s.id, s."workflowId", s.key, s.kind::text AS kind, s."agentId", s.input, s."dependsOn", s.attempts
    ),
    ${appendEventsCtes(startEvents('started'))}
    SELECT s.*, l.goal, l."teamId", l."ownerId", l."planVersion", l."apiKeyId",
           (SELECT max(a.sequence)::int FROM appended a WHERE a."workflowId" = s."workflowId") AS "lastSequence"
    FROM started s JOIN locked l ON l.id = s."workflowId"`;
}

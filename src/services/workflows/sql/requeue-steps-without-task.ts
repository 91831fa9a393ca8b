// One of the reconciler's repairs that is not a settle: a live step whose task is gone runs
// again (READY, no task). Gone means no row and no lease: a continuation's row is not written
// until its run outlives its first moments or ends (commit-steps.ts), and until then the step
// holds its lease ("leaseUntil"). A run lost that way (its worker died first) spends the step's
// budget of lost runs, as a lost lease spends a task's (reclaim-expired.ts), not its retries:
// past it, the step's task is written DEAD with its event, and the reconciler's next pass
// settles the step by its policy, as any dead letter's.
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { STEP_TASK_COLUMNS, stepTaskValues } from './dispatch-ready.js';

/** A step whose task row is missing and whose lease is over (or that never had one). */
const taskGone = (step: string) => Prisma.sql`
  NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = ${Prisma.raw(step)}."taskId")
  AND (${Prisma.raw(step)}."leaseUntil" IS NULL OR ${Prisma.raw(step)}."leaseUntil" < now())`;

export async function requeueStepsWithoutTask(
  client: Queryable,
  stepIds: readonly string[],
  maxLostRuns: number,
): Promise<{ requeued: number; dead: number }> {
  if (stepIds.length === 0) return { requeued: 0, dead: 0 };
  const rows = await client.$queryRaw<Array<{ requeued: number; dead: number }>>`
    WITH lost AS MATERIALIZED (
      SELECT s.id, s."workflowId", s."taskId",
             s."lostRuns" + CASE WHEN s."taskId" IS NULL THEN 0 ELSE 1 END AS runs
      FROM workflow_steps s
      WHERE s.id = ANY(${stepIds}::uuid[]) AND s.status IN ('READY', 'RUNNING')
        AND (s."taskId" IS NULL OR (${taskGone('s')}))
      ORDER BY s.id FOR UPDATE OF s
    ),
    requeued AS (
      UPDATE workflow_steps s SET status = 'READY', "taskId" = NULL, "leaseUntil" = NULL,
                                  "lostRuns" = l.runs
      FROM lost l WHERE s.id = l.id AND (l."taskId" IS NULL OR l.runs < ${maxLostRuns})
      RETURNING 1
    ),
    dead AS (
      INSERT INTO tasks (${STEP_TASK_COLUMNS}, status, attempts, "leaseLosses", error, "currentStep", "lastSequence",
                         "completedAt")
      SELECT ${stepTaskValues({
        taskId: Prisma.sql`l."taskId"`,
        workflowId: Prisma.sql`l."workflowId"`,
        stepId: Prisma.sql`l.id`,
        ownerId: Prisma.sql`w."ownerId"`,
        teamId: Prisma.sql`w."teamId"`,
      })},
             'DEAD', 1, l.runs, 'its worker was lost ' || l.runs || ' times before its run was recorded',
             'dead', 1, now()
      FROM lost l JOIN workflows w ON w.id = l."workflowId"
      WHERE l."taskId" IS NOT NULL AND l.runs >= ${maxLostRuns}
      ON CONFLICT (id) DO NOTHING
      RETURNING id, error
    ),
    dead_lost AS (
      UPDATE workflow_steps s SET "lostRuns" = l.runs, "leaseUntil" = NULL
      FROM lost l JOIN dead d ON d.id = l."taskId" WHERE s.id = l.id
    ),
    dead_events AS (
      INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message)
      SELECT id, 1, 'DEAD', 0, 'dead', error FROM dead
    )
    SELECT (SELECT count(*) FROM requeued)::int AS requeued, (SELECT count(*) FROM dead)::int AS dead`;
  return rows[0]!;
}

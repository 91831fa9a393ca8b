// The task rows of continuations claimed before they were written (commit-steps.ts), as that
// commit would have inserted them: RUNNING under the worker's lease, with no event (their log
// starts with their start or their end). Only where the step still runs on that task (a live
// step of a running workflow): a step the reconciler gave up on, or a cancelled one, gets no
// row, and its worker's next write for the attempt finds none (a stale attempt). A row written
// already (an earlier turn's, tried again) stays as it is.
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import type { ClaimedTaskRow } from '../../../queue/task-row.js';
import { STEP_TASK_COLUMNS, stepTaskValues } from './dispatch-ready.js';

export async function writeUnwrittenSteps(
  client: Queryable,
  tasks: readonly ClaimedTaskRow[],
  claim: { workerId: string; leaseMs: number },
): Promise<void> {
  if (tasks.length === 0) return;
  const ids = tasks.map((task) => task.id);
  const stepIds = tasks.map((task) => (task.payload as { stepId: string }).stepId);
  const attempts = tasks.map((task) => task.attempts);
  const startedAts = tasks.map((task) => task.startedAt?.toISOString() ?? null);
  await client.$executeRaw`${PREPARED}
    INSERT INTO tasks (${STEP_TASK_COLUMNS}, status, attempts, "lockedBy", "workerId", "lockedUntil", "startedAt",
                       "lastSequence", "currentStep", "createdAt")
    SELECT ${stepTaskValues({
      taskId: Prisma.sql`i.id`,
      workflowId: Prisma.sql`s."workflowId"`,
      stepId: Prisma.sql`s.id`,
      ownerId: Prisma.sql`w."ownerId"`,
      teamId: Prisma.sql`w."teamId"`,
    })},
           'RUNNING', i.attempt, ${claim.workerId}, ${claim.workerId},
           now() + ${claim.leaseMs} * interval '1 millisecond', i."startedAt", 0, 'queued',
           least(coalesce(i."startedAt", now()), now())
    FROM unnest(${ids}::uuid[], ${stepIds}::uuid[], ${attempts}::int[], ${startedAts}::timestamptz[])
      AS i(id, "stepId", attempt, "startedAt")
    JOIN workflow_steps s ON s.id = i."stepId" AND s."taskId" = i.id AND s.status IN ('READY', 'RUNNING')
    JOIN workflows w ON w.id = s."workflowId" AND w.status = 'RUNNING'
    ORDER BY i.id
    ON CONFLICT (id) DO NOTHING`;
}

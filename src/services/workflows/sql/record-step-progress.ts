// A running step's progress, as an event of its workflow's log; only while the step runs on
// that task, at that attempt under that worker's lease (a late report of a replaced or
// cancelled attempt writes nothing, nor does a run that lives on past its lost lease).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';
import { runsOnTask } from './run-fence.js';
import { holdsLease } from '../../../queue/lease-fence.js';
import { appendEventsCtes } from './append-events.js';
import type { StepRun } from './mark-running.js';

export async function recordStepProgress(
  client: Queryable,
  step: { id: string; percent: number; message: string },
  run: StepRun,
): Promise<number | undefined> {
  const rows = await client.$queryRaw<Array<{ lastSequence: number }>>`
    WITH ${appendEventsCtes(Prisma.sql`
      SELECT s."workflowId", 'PROGRESS' AS kind, s.key AS "stepKey", 'RUNNING' AS status,
             ${step.percent}::int AS "progressPercent", ${step.message}::text AS message, 0 AS ord
      FROM workflow_steps s JOIN workflows w ON w.id = s."workflowId"
      WHERE s.id = ${step.id}::uuid AND s."taskId" = ${run.taskId}::uuid AND s.status = 'RUNNING'
        AND w.status = 'RUNNING'
        AND ${runsOnTask(
          's',
          Prisma.sql`${run.taskId}::uuid`,
          holdsLease('t', run.workerId, Prisma.sql`${run.attempt}::int`),
        )}`)}
    SELECT max(sequence)::int AS "lastSequence" FROM appended`;
  return rows[0]?.lastSequence ?? undefined;
}

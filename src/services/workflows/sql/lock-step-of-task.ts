// The live step a task runs, with its workflow's policy and replan budget; the workflow's row
// locked, so the failure policy is applied once whoever sees the task end.
import type { WorkflowFailurePolicy } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';

export interface StepOfTask {
  id: string;
  key: string;
  workflowId: string;
  stepPolicy: WorkflowFailurePolicy | null;
  workflowPolicy: WorkflowFailurePolicy;
  replans: number;
  maxReplans: number;
  /** A replan asked for by an earlier failure has not landed yet (workflows.replanTaskId). */
  replanPending: boolean;
  teamId: string;
  ownerId: string;
}

export async function lockStepOfTask(
  client: Queryable,
  taskId: string,
): Promise<StepOfTask | undefined> {
  const rows = await client.$queryRaw<StepOfTask[]>`
    SELECT s.id, s.key, s."workflowId", s."failurePolicy" AS "stepPolicy", w."failurePolicy" AS "workflowPolicy",
           w.replans, w."maxReplans", w."replanTaskId" IS NOT NULL AS "replanPending",
           w."teamId", w."ownerId"
    FROM workflow_steps s JOIN workflows w ON w.id = s."workflowId"
    WHERE s."taskId" = ${taskId}::uuid AND s.status IN ('READY', 'RUNNING') AND w.status = 'RUNNING'
    FOR UPDATE OF w`;
  return rows[0];
}

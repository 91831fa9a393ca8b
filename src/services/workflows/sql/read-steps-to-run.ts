// What a step's run needs of it and its workflow, for steps still live on the task that runs
// them (in RUNNING workflows), unless the task came with it (claimed in a step commit, which
// reads it with the same condition and shape: commit-steps.ts).
// A plain read, no lock: the start itself is recorded later (markStepsRunning) or with the
// step's end; a cancellation that commits after this read reaches the run as its task's
// cancellation (its push, remembered by the worker when it comes before the task: worker.ts).
import { Prisma } from '../../../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';
import type { StartedStep, StepStart } from './mark-running.js';

/** Step `s` can still run in its workflow `w` (its task's own check is the caller's). */
export function stepIsLive(s: string, w: string): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(s)}.status IN ('READY', 'RUNNING') AND ${Prisma.raw(w)}.status = 'RUNNING'`;
}

/** What a step's run reads (StartedStep) of step `s` and its workflow `w`, as one JSON object. */
export function stepToRunJson(s: string, w: string): Prisma.Sql {
  const [step, flow] = [Prisma.raw(s), Prisma.raw(w)];
  return Prisma.sql`json_build_object('id', ${step}.id, 'workflowId', ${step}."workflowId", 'key', ${step}.key,
    'kind', ${step}.kind, 'agentId', ${step}."agentId", 'input', ${step}.input, 'dependsOn', ${step}."dependsOn",
    'goal', ${flow}.goal, 'teamId', ${flow}."teamId", 'ownerId', ${flow}."ownerId",
    'planVersion', ${flow}."planVersion", 'apiKeyId', ${flow}."apiKeyId")`;
}

export async function readStepsToRun(
  client: Queryable,
  starts: readonly StepStart[],
): Promise<StartedStep[]> {
  if (starts.length === 0) return [];
  const stepIds = starts.map((each) => each.stepId);
  // By the steps' ids (their primary key), materialized first: with a status filter beside the
  // ids, the planner may reach them from the workflows' open steps, one workflow at a time
  // (its statistics may count few READY steps: they are READY only briefly).
  const rows = await client.$queryRaw<Array<StartedStep & { taskId: string }>>`${PREPARED}
    WITH step AS MATERIALIZED (SELECT * FROM workflow_steps WHERE id = ANY(${stepIds}::uuid[]))
    SELECT s.id, s."taskId", s."workflowId", s.key, s.kind::text AS kind, s."agentId", s.input, s."dependsOn",
           w.goal, w."teamId", w."ownerId", w."planVersion", w."apiKeyId"
    FROM step s JOIN workflows w ON w.id = s."workflowId"
    WHERE ${stepIsLive('s', 'w')}`;
  const taskOf = new Map(starts.map((start) => [start.stepId, start.taskId]));
  return rows
    .filter((row) => taskOf.get(row.id) === row.taskId)
    .map(({ taskId: _taskId, ...step }) => step);
}

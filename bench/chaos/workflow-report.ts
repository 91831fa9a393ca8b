// What the workflow chaos run found, each against its target of 0: steps lost (fewer rows
// than planned) and stuck (not ended), results committed twice (a step's SUCCEEDED event
// twice, or its task COMPLETED twice), visible effects duplicated or missing (coverage history
// entries per refresh task, artifacts per synthesis), workflows not SUCCEEDED, event-log and
// subscriber gaps.
import { db } from '../../src/platform/db.js';
import { line } from '../stats.js';
import type { Kill } from './settings.js';

const STEPS_PER_WORKFLOW = 40;
const count = async (query: Promise<Array<{ n: bigint | number }>>) => Number((await query)[0]!.n);

/**
 * Steps whose result was committed twice; visible effects made more than once (coverage
 * history entries per refresh task, artifacts per synthesis); and effects missing from a
 * step that SUCCEEDED (a step that never ran, in a failed workflow, has none by design).
 */
async function duplicates(
  ids: string[],
): Promise<{ twice: number; effects: number; missing: number }> {
  const twice = await count(db().$queryRaw`
    SELECT count(*) AS n FROM (SELECT "workflowId", "stepKey" FROM workflow_events WHERE "workflowId" = ANY(${ids}::uuid[])
      AND kind = 'STEP' AND status = 'SUCCEEDED' GROUP BY "workflowId", "stepKey" HAVING count(*) > 1) twice`);
  const tasksTwice = await count(db().$queryRaw`
    SELECT count(*) AS n FROM (SELECT e."taskId" FROM task_events e JOIN workflow_steps s ON s."taskId" = e."taskId"
      WHERE s."workflowId" = ANY(${ids}::uuid[]) AND e.status = 'COMPLETED' GROUP BY e."taskId" HAVING count(*) > 1) twice`);
  const [effects] = await db().$queryRaw<Array<{ duplicated: number; missing: number }>>`
    WITH made AS (
      SELECT s.status,
             CASE s.kind WHEN 'REFRESH_COVERAGE' THEN (SELECT count(*) FROM coverage_history h WHERE h."taskId" = s."taskId")
                         ELSE (SELECT count(*) FROM artifacts a WHERE a.id = s.id) END AS n
      FROM workflow_steps s WHERE s."workflowId" = ANY(${ids}::uuid[]) AND s.kind IN ('REFRESH_COVERAGE', 'SYNTHESIZE')
    )
    SELECT count(*) FILTER (WHERE n > 1)::int AS duplicated,
           count(*) FILTER (WHERE n = 0 AND status = 'SUCCEEDED')::int AS missing FROM made`;
  return { twice: twice + tasksTwice, effects: effects!.duplicated, missing: effects!.missing };
}

export async function workflowReport(
  ids: string[],
  kills: Kill[],
  seen: Map<string, number[]>,
): Promise<boolean> {
  const steps = await db().workflowStep.findMany({
    where: { workflowId: { in: ids } },
    select: { status: true, attempts: true },
  });
  const workflows = await db().workflow.findMany({
    where: { id: { in: ids } },
    select: { id: true, status: true, lastSequence: true },
  });
  const lost = ids.length * STEPS_PER_WORKFLOW - steps.length;
  const stuck = steps.filter((s) => ['PENDING', 'READY', 'RUNNING'].includes(s.status)).length;
  const { twice, effects, missing } = await duplicates(ids);
  const gaps = await count(db().$queryRaw`
    SELECT count(*) AS n FROM (SELECT w.id FROM workflows w JOIN workflow_events e ON e."workflowId" = w.id WHERE w.id = ANY(${ids}::uuid[])
      GROUP BY w.id, w."lastSequence" HAVING count(*) <> w."lastSequence" OR min(e.sequence) <> 1 OR max(e.sequence) <> w."lastSequence") gapped`);
  const notSucceeded = workflows.filter((w) => w.status !== 'SUCCEEDED').length;
  const subscriberGaps = [...seen.entries()].filter(([id, sequences]) => {
    const last = workflows.find((w) => w.id === id)?.lastSequence ?? 0;
    return sequences.length !== last || sequences.some((sequence, i) => sequence !== i + 1);
  }).length;
  const caught = kills.reduce((n, kill) => n + kill.taskIds.length, 0);
  line(
    'kills',
    `${kills.length} worker SIGKILLs caught ${caught} running tasks; Redis SIGKILLed and restarted once`,
  );
  line(
    'workflows',
    `${ids.length} started, ${workflows.filter((w) => w.status === 'SUCCEEDED').length} SUCCEEDED; ${steps.length} steps`,
  );
  const retried = steps.filter((s) => s.attempts > 1);
  line(
    'attempts',
    `${retried.length} steps needed more than one attempt (most: ${Math.max(0, ...steps.map((s) => s.attempts))})`,
  );
  const checks: Array<[string, number]> = [
    ['steps lost', lost],
    ['steps stuck (not ended by the deadline)', stuck],
    ['results committed twice (a step SUCCEEDED twice, or its task COMPLETED twice)', twice],
    [
      'duplicate visible effects (a refresh with two history entries, a synthesis with two artifacts)',
      effects,
    ],
    ['visible effects missing from a SUCCEEDED refresh or synthesis', missing],
    ['stuck or failed workflows (not SUCCEEDED by the deadline)', notSucceeded],
    ['workflows with event-log gaps', gaps],
    [`subscribers (of ${seen.size}) that missed or repeated a sequence`, subscriberGaps],
  ];
  for (const [label, value] of checks) line(label, `${value}: ${value === 0 ? 'MET' : 'MISSED'}`);
  if (notSucceeded > 0) await explainNotSucceeded(ids);
  return checks.every(([, value]) => value === 0);
}

/** What a workflow that did not succeed shows: its status, and its steps that did not succeed. */
async function explainNotSucceeded(ids: string[]): Promise<void> {
  const rows = await db().$queryRaw<
    Array<{ workflow: string; status: string; step: string | null; detail: string | null }>
  >`
    SELECT w.id::text AS workflow, w.status::text AS status, s.key AS step,
           s.status || ' after ' || s.attempts || ' attempt(s): ' || coalesce(s.error, '-')
             || ' | task ' || coalesce(t.status::text, '-') || ' attempts ' || coalesce(t.attempts, 0)
             || ': ' || coalesce(t.error, '-') AS detail
    FROM workflows w
    LEFT JOIN workflow_steps s ON s."workflowId" = w.id AND s.status <> 'SUCCEEDED'
    LEFT JOIN tasks t ON t.id = s."taskId"
    WHERE w.id = ANY(${ids}::uuid[]) AND w.status <> 'SUCCEEDED'
    ORDER BY w.id, s.position`;
  for (const row of rows)
    line(
      `  workflow ${row.workflow.slice(0, 8)} ${row.status}`,
      row.step ? `${row.step}: ${row.detail}` : 'every step SUCCEEDED',
    );
}

// A workflow's event log as its live feed reads it (src/http/feeds.ts): where it stands, the
// state now (a STATE entry at the last sequence, for a follower that names none), the events
// after a sequence, and the entry after which a follower is done (the workflow ended).
import type { WorkflowEvent } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';

export type WorkflowEventRow = Omit<WorkflowEvent, 'id'>;

export const WORKFLOW_EVENT_PAGE = 500;
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export const isWorkflowEnd = (event: Pick<WorkflowEventRow, 'kind' | 'status'>) =>
  (event.kind === 'WORKFLOW' || event.kind === 'STATE') && ENDED.has(event.status);

/** Steps ended well in percent of all; a plan of no steps is all done once it SUCCEEDED. */
export const progressPercentOf = (status: string, done: number, total: number): number =>
  total ? Math.floor((100 * done) / total) : status === 'SUCCEEDED' ? 100 : 0;

export async function workflowLogPosition(workflowId: string) {
  const row = await db().workflow.findUnique({
    where: { id: workflowId },
    select: { status: true, lastSequence: true },
  });
  return row && { lastSequence: row.lastSequence, ended: ENDED.has(row.status) };
}

export function selectWorkflowEventsAfter(
  workflowId: string,
  sequence: number,
  limit = WORKFLOW_EVENT_PAGE,
): Promise<WorkflowEventRow[]> {
  return db().workflowEvent.findMany({
    where: { workflowId, sequence: { gt: sequence } },
    orderBy: { sequence: 'asc' },
    take: limit,
  });
}

/** The workflow's state now, as an entry at its last sequence. */
export async function workflowStateEvent(workflowId: string): Promise<WorkflowEventRow | null> {
  const [workflow, counts] = await Promise.all([
    db().workflow.findUnique({
      where: { id: workflowId },
      select: { status: true, lastSequence: true, updatedAt: true, planVersion: true },
    }),
    db().workflowStep.groupBy({ by: ['status'], where: { workflowId }, _count: true }),
  ]);
  if (!workflow) return null;
  const total = counts.reduce((sum, each) => sum + each._count, 0);
  const done = counts
    .filter((each) => each.status === 'SUCCEEDED' || each.status === 'SKIPPED')
    .reduce((sum, each) => sum + each._count, 0);
  const parts = counts.map((each) => `${each._count} ${each.status.toLowerCase()}`).join(', ');
  return {
    workflowId,
    sequence: workflow.lastSequence,
    kind: 'STATE',
    stepKey: null,
    status: workflow.status,
    progressPercent: progressPercentOf(workflow.status, done, total),
    message: `plan version ${workflow.planVersion}; steps: ${parts || 'none'}`,
    at: workflow.updatedAt,
  };
}

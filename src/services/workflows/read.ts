// Reading workflows: one by id, the caller's teams' ones newest first, and a plan's totals.
// Another team's workflow does not exist for the caller (NOT_FOUND, or null).
import type { Prisma, WorkflowStatus } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import { notFound } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import {
  connectionFromRows,
  newestFirstAfter,
  newestFirstCursor,
  pageSize,
} from '../../platform/pagination.js';
import {
  constraintViolations,
  type PlanEstimate,
} from '../../reports/planner/workflow-estimate.js';
import { criticalPath, dependencyOrder } from '../../reports/planner/workflow-graph.js';
import type {
  Constraints,
  ConstraintViolation,
  StepEstimate,
} from '../../reports/planner/workflow-types.js';
import type { Caller } from '../auth/caller.js';
import { requireWrite } from '../auth/permissions.js';
import { workflowVisibleTo } from '../auth/visibility.js';

type Who = Pick<Caller, 'isOperator' | 'roles'>;

/** The unique `where` of a row id restricted to the workflows the caller sees (for node(id)). */
export const ownWorkflowWhere = (rowId: string, caller: Who): Prisma.WorkflowWhereUniqueInput => ({
  ...rowIdWhere(rowId),
  AND: [workflowVisibleTo(caller)],
});

export async function requireWorkflowForCaller(workflowId: string, caller: Who) {
  const workflow = await db().workflow.findFirst({ where: ownWorkflowWhere(workflowId, caller) });
  if (!workflow) throw notFound('Workflow');
  return workflow;
}

/** Changing it needs write in its team (FORBIDDEN to a teammate who may only read). */
export async function requireWritableWorkflow(workflowId: string, caller: Caller) {
  const workflow = await requireWorkflowForCaller(workflowId, caller);
  requireWrite(caller, workflow.teamId, 'Workflow', true);
  return workflow;
}

/** Newest first, keyset-paginated on (createdAt, id) behind workflows(teamId[, status], createdAt desc, id desc). */
export async function listWorkflows(
  caller: Caller,
  args: { status?: WorkflowStatus | null; first?: number | null; after?: string | null },
  query: { include?: Prisma.WorkflowInclude; select?: Prisma.WorkflowSelect } = {},
) {
  const limit = pageSize(args.first);
  const after = newestFirstAfter(args.after);
  const where: Prisma.WorkflowWhereInput = {
    AND: [workflowVisibleTo(caller), args.status ? { status: args.status } : {}],
  };
  const [rows, totalCount] = await Promise.all([
    db().workflow.findMany({
      ...query,
      where: after ? { AND: [where, after] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().workflow.count({ where }),
  ]);
  return {
    ...connectionFromRows(rows, limit, args.after, newestFirstCursor),
    totalCount,
  };
}

export interface WorkflowTotals extends Omit<PlanEstimate, 'perStep'> {
  violations: ConstraintViolation[];
}

const ZERO: StepEstimate = { seconds: 0, tokens: 0, costUsd: 0 };

/** The plan's totals from its steps' estimates: sums, the critical path, the constraints it breaks. */
export function totalsOf(
  steps: ReadonlyArray<{ key: string; dependsOn: string[]; estimate: unknown }>,
  constraints: unknown,
): WorkflowTotals {
  const estimates = new Map(
    steps.map((step) => [step.key, { ...ZERO, ...(step.estimate as StepEstimate | null) }]),
  );
  const total = { ...ZERO };
  for (const each of estimates.values()) {
    total.seconds += each.seconds;
    total.tokens += each.tokens;
    total.costUsd += each.costUsd;
  }
  const graph = dependencyOrder(steps);
  const path =
    'order' in graph
      ? criticalPath(steps, graph.order, (key) => estimates.get(key)!.seconds)
      : { keys: [], seconds: 0 };
  const estimate = {
    total: {
      seconds: Number(total.seconds.toFixed(3)),
      tokens: total.tokens,
      costUsd: Number(total.costUsd.toFixed(6)),
    },
    criticalPath: path.keys,
    criticalPathSeconds: Number(path.seconds.toFixed(3)),
  };
  return {
    ...estimate,
    violations: constraintViolations(
      { ...estimate, perStep: new Map() },
      steps.length,
      constraints as Constraints,
    ),
  };
}

export async function workflowEstimate(
  workflowId: string,
): Promise<WorkflowTotals & { writesSections: boolean }> {
  const [workflow, steps] = await Promise.all([
    db().workflow.findUniqueOrThrow({ where: { id: workflowId }, select: { constraints: true } }),
    db().workflowStep.findMany({
      where: { workflowId },
      select: { key: true, kind: true, dependsOn: true, estimate: true },
    }),
  ]);
  return {
    ...totalsOf(steps, workflow.constraints),
    writesSections: steps.some((step) => step.kind === 'WRITE_SECTION'),
  };
}

// What a replan reads: the workflow's goal, agents and guide as the plan had them, and every
// step as it stands (what ran, what failed and why, what has not started).
import type { Workflow, WorkflowStep } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import { languageOf } from '../../reports/planner/types.js';
import type {
  FailurePolicy,
  PlannedStep,
  ReplanContext,
  StepState,
} from '../../reports/planner/workflow-types.js';

export const isUnstarted = (step: Pick<WorkflowStep, 'status' | 'taskId'>) =>
  step.status === 'PENDING' || (step.status === 'READY' && step.taskId === null);

export const plannedOf = (step: WorkflowStep): PlannedStep => ({
  key: step.key,
  kind: step.kind,
  agentId: step.agentId,
  dependsOn: step.dependsOn,
  input: (step.input ?? {}) as Record<string, unknown>,
  complexity: step.complexity,
  failurePolicy: step.failurePolicy as FailurePolicy | null,
});

function summaryOf(step: WorkflowStep): string | null {
  const result = step.result as {
    hits?: unknown[];
    markdown?: string;
    overallCoverage?: number;
  } | null;
  if (!result) return null;
  if (Array.isArray(result.hits)) return `${result.hits.length} passages found`;
  if (typeof result.markdown === 'string') return result.markdown.slice(0, 200);
  if (typeof result.overallCoverage === 'number') return `coverage ${result.overallCoverage}`;
  return null;
}

export function stepStates(steps: readonly WorkflowStep[]): StepState[] {
  return steps.map((step) => ({
    key: step.key,
    kind: step.kind,
    agentId: step.agentId,
    dependsOn: step.dependsOn,
    status: step.status,
    started: !isUnstarted(step),
    error: step.error,
    summary: summaryOf(step),
    step: plannedOf(step),
  }));
}

export async function replanContext(
  workflow: Workflow,
  hint: string | null,
): Promise<ReplanContext> {
  const [agents, template, steps] = await Promise.all([
    db().agent.findMany({
      where: { id: { in: workflow.agentIds } },
      select: { id: true, name: true, scopeDescription: true, lastCoverageUpdate: true },
    }),
    workflow.templateId
      ? db().template.findUnique({
          where: { id: workflow.templateId },
          select: { promptSystem: true },
        })
      : null,
    db().workflowStep.findMany({
      where: { workflowId: workflow.id },
      orderBy: { position: 'asc' },
    }),
  ]);
  const byId = new Map(agents.map((agent) => [agent.id, agent]));
  return {
    goal: workflow.goal,
    language: languageOf(workflow.goal),
    agents: workflow.agentIds.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])),
    guide: template?.promptSystem ?? null,
    now: new Date(),
    steps: stepStates(steps),
    hint,
  };
}

// What a plan request says, checked: the goal, the agents (the caller must see each), the
// template, the constraints, the planner and the policy. Bad input names its reason.
import { db } from '../../platform/db.js';
import type { WebhookTargetInput } from '../webhooks/delivery.js';
import { isUuid } from '../../platform/ids.js';
import { languageOf } from '../../reports/planner/types.js';
import { characterCount } from '../../reports/planner/workflow-check.js';
import {
  WORKFLOW_LIMITS,
  type Constraints,
  type FailurePolicy,
  type WorkflowAgent,
  type WorkflowPlanContext,
} from '../../reports/planner/workflow-types.js';
import type { Caller } from '../auth/caller.js';
import { agentVisibleTo } from '../auth/visibility.js';
import { requireVisibleTemplate } from '../templates/templates.js';
import { badWorkflowInput } from './problems.js';
import { MAX_PARALLEL_STEPS } from './settings.js';

export type PlannerChoice = 'AUTO' | 'LOCAL' | 'LLM';

export interface PlanWorkflowInput extends WebhookTargetInput {
  goal: string;
  /** Row ids. */
  agentIds: readonly string[];
  templateId?: string | null;
  constraints?: Constraints | null;
  planner?: PlannerChoice | null;
  failurePolicy?: FailurePolicy | null;
  maxParallelSteps?: number | null;
}

export const MAX_AGENTS = 32;

const CONTROL = /\p{Cc}/u;
/** Format characters (zero-width spaces and joiners, bidi marks, BOM) show nothing by themselves. */
const INVISIBLE = /[\p{Cf}\s]/gu;

export function validGoal(text: string): string {
  const goal = text.replace(/\s+/g, ' ').trim();
  if (!goal.replace(INVISIBLE, ''))
    throw badWorkflowInput('EMPTY', 'goal must not be empty', { field: 'goal' }, 'input.goal');
  if (CONTROL.test(goal))
    throw badWorkflowInput(
      'CONTROL_CHARACTER',
      'goal must not contain a control character (other than whitespace)',
      { field: 'goal' },
      'input.goal',
    );
  const length = characterCount(goal, WORKFLOW_LIMITS.goal);
  if (length > WORKFLOW_LIMITS.goal)
    throw badWorkflowInput(
      'TOO_LONG',
      `goal must be at most ${WORKFLOW_LIMITS.goal} characters`,
      { field: 'goal' },
      'input.goal',
    );
  return goal;
}

export function validConstraints(constraints: Constraints | null | undefined): Constraints {
  const checked: Constraints = {};
  for (const name of ['maxSeconds', 'maxCostUsd', 'maxSteps'] as const) {
    const value = constraints?.[name];
    if (value == null) continue;
    if (!Number.isFinite(value) || value < 0)
      throw badWorkflowInput(
        'INVALID_CONSTRAINT',
        `constraints.${name} must be a number ≥ 0`,
        { field: name },
        'input.constraints',
      );
    checked[name] = value;
  }
  return checked;
}

export function validParallelism(value: number | null | undefined, fallback: number): number {
  if (value == null) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PARALLEL_STEPS)
    throw badWorkflowInput(
      'INVALID_PARALLELISM',
      `maxParallelSteps must be 1-${MAX_PARALLEL_STEPS}`,
      { field: 'maxParallelSteps' },
      'input.maxParallelSteps',
    );
  return value;
}

/** runWorkflow's input as its idempotency key remembers it: checked, as the caller sent it. */
export function normalizedPlanInput(input: PlanWorkflowInput) {
  return {
    goal: validGoal(input.goal),
    agentIds: [...new Set(input.agentIds)],
    templateId: input.templateId ?? null,
    constraints: validConstraints(input.constraints),
    planner: input.planner ?? 'AUTO',
    failurePolicy: input.failurePolicy ?? 'FAIL_WORKFLOW',
    maxParallelSteps: input.maxParallelSteps ?? null,
    webhookUrl: input.webhookUrl ?? null,
    webhookEndpointId: input.webhookEndpointId ?? null,
  };
}

/**
 * The agents, in the order given; UNKNOWN_AGENT names the ones the caller does not see
 * (`agentIds`, as the service got them: the schema layer names them as the caller sent them),
 * refused as `argument` (and, for agents named by steps, the first step naming one).
 */
export async function visibleAgents(
  agentIds: readonly string[],
  caller: Caller,
  refused: { argument: string; stepKeyOf?: (agentId: string) => string | undefined } = {
    argument: 'input.agentIds',
  },
): Promise<WorkflowAgent[]> {
  const ids = [...new Set(agentIds)];
  if (ids.length > MAX_AGENTS)
    throw badWorkflowInput('TOO_MANY_AGENTS', `at most ${MAX_AGENTS} agents`, {}, refused.argument);
  const rows = await db().agent.findMany({
    where: { AND: [{ id: { in: ids.filter(isUuid) } }, agentVisibleTo(caller)] },
    select: { id: true, name: true, scopeDescription: true, lastCoverageUpdate: true },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length) {
    const stepKey = refused.stepKeyOf?.(unknown[0]!);
    throw badWorkflowInput(
      'UNKNOWN_AGENT',
      `${stepKey === undefined ? '' : `step ${stepKey}: `}${unknown.length} of the agents are not agents you can see`,
      { agentIds: unknown, ...(stepKey === undefined ? {} : { stepKey }) },
      refused.argument,
    );
  }
  return ids.map((id) => byId.get(id)!);
}

/** The planner's context: everything it reads, `now` included (so plans are reproducible). */
export async function planContext(
  input: PlanWorkflowInput,
  goal: string,
  caller: Caller,
): Promise<{ context: WorkflowPlanContext; templateId: string | null }> {
  const [agents, template] = await Promise.all([
    visibleAgents(input.agentIds, caller),
    input.templateId ? requireVisibleTemplate(input.templateId, caller) : null,
  ]);
  return {
    context: {
      goal,
      language: languageOf(goal),
      agents,
      guide: template?.promptSystem ?? null,
      now: new Date(),
    },
    templateId: template?.id ?? null,
  };
}

// Checking a plan before it is stored or run: its size, keys, kinds, agents and dependencies,
// then its graph (a cycle is named by its keys). The first problem found is the answer.
import { dependencyOrder } from './workflow-graph.js';
import {
  COMPLEXITIES,
  isStepKind,
  WORKFLOW_LIMITS,
  type PlannedStep,
  type PlanProblem,
} from './workflow-types.js';

export interface PlanLimits {
  maxSteps: number;
  /** The agents the plan may name (row ids). */
  agentIds: ReadonlySet<string>;
  /** Keys of steps that have run already (a replan's kept steps): only their place in the graph is checked. */
  ran?: ReadonlySet<string>;
}

const KEY = /^[\p{L}\p{N}_.:-]+$/u;
/** Kinds that run over an agent: without one (it was deleted) they cannot run. */
export const NEEDS_AGENT: ReadonlySet<string> = new Set(['RETRIEVE', 'REFRESH_COVERAGE']);

const problem = (
  reason: PlanProblem['reason'],
  message: string,
  details: Record<string, unknown> = {},
): PlanProblem => ({ reason, message, details });

function stepProblem(step: PlannedStep, limits: PlanLimits): PlanProblem | undefined {
  if (!step.key || step.key.length > WORKFLOW_LIMITS.key || !KEY.test(step.key))
    return problem(
      'INVALID_STEP',
      `step key "${step.key}": 1-${WORKFLOW_LIMITS.key} letters, digits, _ . : -`,
      { stepKey: step.key },
    );
  if (!isStepKind(step.kind))
    return problem('UNKNOWN_STEP_KIND', `step ${step.key}: unknown kind ${step.kind}`, {
      stepKey: step.key,
      kind: step.kind,
    });
  const waitMs = step.kind === 'NOOP' ? step.input.waitMs : undefined;
  if (
    waitMs !== undefined &&
    (typeof waitMs !== 'number' || !(waitMs >= 0 && waitMs <= WORKFLOW_LIMITS.noopWaitMs))
  )
    return problem(
      'INVALID_STEP',
      `step ${step.key}: a NOOP's input.waitMs is 0-${WORKFLOW_LIMITS.noopWaitMs} ms`,
      { stepKey: step.key, field: 'input.waitMs' },
    );
  if (!(COMPLEXITIES as readonly number[]).includes(step.complexity))
    return problem(
      'INVALID_COMPLEXITY',
      `step ${step.key}: complexity is ${COMPLEXITIES.join(', ')} (got ${step.complexity})`,
      { stepKey: step.key, complexity: step.complexity },
    );
  if (step.agentId !== null && !limits.agentIds.has(step.agentId))
    return problem('UNKNOWN_AGENT', `step ${step.key}: an agent the plan does not have`, {
      stepKey: step.key,
    });
  if (step.agentId === null && NEEDS_AGENT.has(step.kind))
    return problem('UNKNOWN_AGENT', `step ${step.key}: ${step.kind} needs an agent`, {
      stepKey: step.key,
    });
  return undefined;
}

/** The plan's first problem, or its dependency order. */
export function checkPlan(
  steps: readonly PlannedStep[],
  limits: PlanLimits,
): { problem: PlanProblem } | { order: string[] } {
  if (steps.length > limits.maxSteps)
    return {
      problem: problem(
        'TOO_MANY_STEPS',
        `a plan has at most ${limits.maxSteps} steps (got ${steps.length})`,
        { maxSteps: limits.maxSteps, steps: steps.length },
      ),
    };
  const keys = new Set<string>();
  for (const step of steps) {
    const found = limits.ran?.has(step.key) ? undefined : stepProblem(step, limits);
    if (found) return { problem: found };
    if (keys.has(step.key))
      return {
        problem: problem('DUPLICATE_STEP_KEY', `step key ${step.key} is used twice`, {
          stepKey: step.key,
        }),
      };
    keys.add(step.key);
  }
  for (const step of steps) {
    const unknown = step.dependsOn.find((key) => !keys.has(key));
    if (unknown !== undefined)
      return {
        problem: problem(
          'UNKNOWN_DEPENDENCY',
          `step ${step.key} depends on ${unknown}, which is not a step of the plan`,
          { stepKey: step.key, dependency: unknown },
        ),
      };
  }
  const graph = dependencyOrder(steps);
  if ('cycle' in graph)
    return {
      problem: problem(
        'CYCLE',
        `the steps depend on each other in a cycle: ${graph.cycle.join(' → ')}`,
        {
          cycle: graph.cycle,
        },
      ),
    };
  return graph;
}

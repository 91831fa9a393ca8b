// Checking a plan before it is stored or run: its size, keys, kinds, each kind's input (what
// the step's run reads), agents and dependencies, then its graph (a cycle is named by its
// keys). The first problem found is the answer.
import { z } from 'zod';
import { dependencyOrder } from './workflow-graph.js';
import {
  COMPLEXITIES,
  isStepKind,
  PLUGIN_STEP_KINDS,
  WORKFLOW_LIMITS,
  type PlannedStep,
  type PlanProblem,
  type StepKind,
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

/** User-perceived characters (Unicode grapheme clusters, UAX #29): a flag, a family emoji, e + ◌́ are one. */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The characters of `text` as people count them, counted up to `limit + 1` (enough to refuse more). */
export function characterCount(text: string, limit: number): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) if (++count > limit) break;
  return count;
}

/**
 * Text PostgreSQL can store: no NUL, no lone surrogate (String.prototype.isWellFormed, Node 20;
 * our TypeScript lib predates it). An LLM's plan may hold either; refused here, it falls back.
 * (src/platform/storable.ts says the same for the services; this part imports no other.)
 */
const storable = (value: string) =>
  !value.includes('\u0000') && (value as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * A JSON value whose every string and key is storable. Its strings, not its JSON text:
 * JSON.stringify writes a NUL as \u0000 and a lone surrogate as \udXXX, which jsonb refuses.
 */
const storableJson = (value: unknown): boolean =>
  typeof value === 'string'
    ? storable(value)
    : Array.isArray(value)
      ? value.every(storableJson)
      : typeof value !== 'object' ||
        value === null ||
        Object.entries(value).every(([key, each]) => storable(key) && storableJson(each));

/** Counted as people read them, as the goal is (the planners copy the goal into steps). */
const text = (max: number, nonEmpty = false) => ({
  schema: z
    .string()
    .refine(
      (value) =>
        storable(value) && (!nonEmpty || value.trim() !== '') && characterCount(value, max) <= max,
    ),
  rule: `a${nonEmpty ? ' non-empty' : ''} string of at most ${max} characters`,
});
const whole = (max: number) => ({
  schema: z.number().int().min(1).max(max),
  rule: `a whole number from 1 to ${max}`,
});

/** A plugin step's: the installation (its id) and the input its schema checks when it runs. */
const PLUGIN_INPUT = {
  installationId: text(WORKFLOW_LIMITS.key * 2, true),
  input: {
    schema: z.record(z.string(), z.unknown()).refine(storableJson),
    rule: 'a JSON object',
  },
};

/** What each kind's run reads of its input (step-kinds.ts), each field optional (null: unset). */
const STEP_INPUTS: Record<StepKind, Record<string, { schema: z.ZodType; rule: string }>> = {
  RETRIEVE: { query: text(WORKFLOW_LIMITS.goal), topK: whole(WORKFLOW_LIMITS.topK) },
  REFRESH_COVERAGE: {},
  WRITE_SECTION: {
    title: text(WORKFLOW_LIMITS.title, true),
    description: text(WORKFLOW_LIMITS.description),
    order: whole(WORKFLOW_LIMITS.order),
    total: whole(WORKFLOW_LIMITS.order),
  },
  SYNTHESIZE: { title: text(WORKFLOW_LIMITS.goal) },
  NOOP: {
    waitMs: {
      schema: z.number().min(0).max(WORKFLOW_LIMITS.noopWaitMs),
      rule: `0-${WORKFLOW_LIMITS.noopWaitMs} ms`,
    },
  },
  PLUGIN_TOOL: PLUGIN_INPUT,
  PLUGIN_AGENT: PLUGIN_INPUT,
};

/** INVALID_STEP naming the step and the input field at fault, if one is. */
function inputProblem(key: string, kind: StepKind, input: unknown): PlanProblem | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return problem('INVALID_STEP', `step ${key}: input must be a JSON object`, {
      stepKey: key,
      stepField: 'input',
    });
  if (PLUGIN_STEP_KINDS.has(kind) && (input as Record<string, unknown>).installationId == null)
    return problem('INVALID_STEP', `step ${key}: a ${kind} names input.installationId`, {
      stepKey: key,
      stepField: 'input.installationId',
    });
  for (const [field, { schema, rule }] of Object.entries(STEP_INPUTS[kind])) {
    const value = (input as Record<string, unknown>)[field];
    if (value === undefined || value === null || schema.safeParse(value).success) continue;
    return problem('INVALID_STEP', `step ${key}: a ${kind}'s input.${field} must be ${rule}`, {
      stepKey: key,
      stepField: `input.${field}`,
    });
  }
  return undefined;
}

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
  const invalidInput = inputProblem(step.key, step.kind, step.input);
  if (invalidInput) return invalidInput;
  if (!(COMPLEXITIES as readonly number[]).includes(step.complexity))
    return problem(
      'INVALID_COMPLEXITY',
      `step ${step.key}: complexity is ${COMPLEXITIES.join(', ')} (got ${step.complexity})`,
      { stepKey: step.key, complexity: step.complexity },
    );
  if (step.agentId !== null && !limits.agentIds.has(step.agentId))
    return problem('UNKNOWN_AGENT', `step ${step.key}: an agent the plan does not have`, {
      stepKey: step.key,
      agentIds: [step.agentId],
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
  let dependencies = 0;
  for (const step of steps) dependencies += new Set(step.dependsOn).size;
  if (dependencies > WORKFLOW_LIMITS.dependencies)
    return {
      problem: problem(
        'TOO_MANY_DEPENDENCIES',
        `a plan has at most ${WORKFLOW_LIMITS.dependencies} dependencies in all (got ${dependencies})`,
        { maxDependencies: WORKFLOW_LIMITS.dependencies, dependencies },
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

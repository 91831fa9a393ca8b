// Estimates of the goal planner: a step's seconds and tokens are the recent actuals of
// its kind (per unit of complexity), else defaults, times its complexity; cost is tokens ×
// price. The plan's totals are the sum over steps, and its critical path the longest chain.
import { criticalPath } from './workflow-graph.js';
import type {
  Constraints,
  ConstraintViolation,
  PlannedStep,
  StepEstimate,
  StepKind,
} from './workflow-types.js';

export type UnitActuals = Partial<Record<StepKind, { seconds: number; tokens: number }>>;

/** Per unit of complexity, before any actuals are known. */
export const DEFAULT_UNIT_ESTIMATES: Record<StepKind, { seconds: number; tokens: number }> = {
  RETRIEVE: { seconds: 0.5, tokens: 0 },
  REFRESH_COVERAGE: { seconds: 2, tokens: 0 },
  WRITE_SECTION: { seconds: 6, tokens: 1_200 },
  SYNTHESIZE: { seconds: 3, tokens: 0 },
  NOOP: { seconds: 0.01, tokens: 0 },
  PLUGIN_TOOL: { seconds: 1, tokens: 0 },
  PLUGIN_AGENT: { seconds: 6, tokens: 1_200 },
};

export interface EstimateInputs {
  actuals: UnitActuals;
  /** USD per million tokens. */
  pricePerMillionTokens: number;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function estimateStep(step: PlannedStep, inputs: EstimateInputs): StepEstimate {
  const kind = step.kind as StepKind;
  const unit = inputs.actuals[kind] ?? DEFAULT_UNIT_ESTIMATES[kind] ?? { seconds: 1, tokens: 0 };
  const tokens = Math.round(unit.tokens * step.complexity);
  // A NOOP that says how long it waits takes that long (a time constraint sees it).
  const waitMs = step.kind === 'NOOP' ? step.input.waitMs : undefined;
  return {
    seconds:
      typeof waitMs === 'number'
        ? round(waitMs / 1000, 3)
        : round(unit.seconds * step.complexity, 3),
    tokens,
    costUsd: round((tokens * inputs.pricePerMillionTokens) / 1_000_000, 6),
  };
}

export interface PlanEstimate {
  /** Sums over the steps. */
  total: StepEstimate;
  /** The longest chain of dependencies by seconds: the plan's wall time with enough workers. */
  criticalPath: string[];
  criticalPathSeconds: number;
  perStep: Map<string, StepEstimate>;
}

export function estimatePlan(
  steps: readonly PlannedStep[],
  order: readonly string[],
  inputs: EstimateInputs,
): PlanEstimate {
  const perStep = new Map(steps.map((step) => [step.key, estimateStep(step, inputs)]));
  const total = { seconds: 0, tokens: 0, costUsd: 0 };
  for (const estimate of perStep.values()) {
    total.seconds += estimate.seconds;
    total.tokens += estimate.tokens;
    total.costUsd += estimate.costUsd;
  }
  const path = criticalPath(steps, order, (key) => perStep.get(key)!.seconds);
  return {
    total: {
      seconds: round(total.seconds, 3),
      tokens: total.tokens,
      costUsd: round(total.costUsd, 6),
    },
    criticalPath: path.keys,
    criticalPathSeconds: round(path.seconds, 3),
    perStep,
  };
}

/** What the plan would break, before it starts: time by its critical path, cost, step count. */
export function constraintViolations(
  estimate: PlanEstimate,
  steps: number,
  constraints: Constraints,
): ConstraintViolation[] {
  const violations: ConstraintViolation[] = [];
  const { maxSeconds, maxCostUsd, maxSteps } = constraints;
  if (maxSeconds != null && estimate.criticalPathSeconds > maxSeconds)
    violations.push({
      constraint: 'TIME',
      limit: maxSeconds,
      estimate: estimate.criticalPathSeconds,
      message: `estimated ${estimate.criticalPathSeconds} s on its critical path, over the ${maxSeconds} s allowed`,
    });
  if (maxCostUsd != null && estimate.total.costUsd > maxCostUsd)
    violations.push({
      constraint: 'COST',
      limit: maxCostUsd,
      estimate: estimate.total.costUsd,
      message: `estimated $${estimate.total.costUsd}, over the $${maxCostUsd} allowed`,
    });
  if (maxSteps != null && steps > maxSteps)
    violations.push({
      constraint: 'STEPS',
      limit: maxSteps,
      estimate: steps,
      message: `${steps} steps, over the ${maxSteps} allowed`,
    });
  return violations;
}

// A plan's problems as the domain's errors: BAD_USER_INPUT with the reason clients switch on
// (and, for a cycle, its keys), CONFLICT for a finished workflow or a stale plan version.
import { BadInputError, conflict } from '../../platform/errors.js';
import type { ConstraintViolation, PlanProblem } from '../../reports/planner/workflow-types.js';

export const planRefused = (problem: PlanProblem) =>
  new BadInputError(problem.message, { reason: problem.reason, ...problem.details });

export const badWorkflowInput = (
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
) => new BadInputError(message, { reason, ...details });

export const constraintsViolated = (violations: ConstraintViolation[]) =>
  new BadInputError(
    `the plan breaks its constraints: ${violations.map((each) => each.message).join('; ')}`,
    {
      reason: 'CONSTRAINT_VIOLATED',
      violations,
    },
  );

export const workflowFinished = (status: string) =>
  conflict(`the workflow has ended (${status})`, { reason: 'WORKFLOW_FINISHED', status });

export const stalePlanVersion = (given: number, current: number) =>
  conflict(`plan version ${given} is not the current one (${current}): read the plan again`, {
    reason: 'STALE_PLAN_VERSION',
    planVersion: current,
  });

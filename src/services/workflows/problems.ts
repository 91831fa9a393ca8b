// A plan's problems as the domain's errors: BAD_USER_INPUT with the reason clients switch on,
// the argument at fault (extensions.argument, docs/clients.md) and what it names (the step's
// key, a cycle's keys, the agents), CONFLICT for a finished workflow or a stale plan version.
import { BadInputError, conflict } from '../../platform/errors.js';
import type { ConstraintViolation, PlanProblem } from '../../reports/planner/workflow-types.js';

/** `argument`: the argument the plan came from (`steps`, `input`); the step at fault is in stepKey. */
export const planRefused = (problem: PlanProblem, argument?: string) =>
  new BadInputError(problem.message, { reason: problem.reason, ...problem.details }, argument);

export const badWorkflowInput = (
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
  argument?: string,
) => new BadInputError(message, { reason, ...details }, argument);

export const constraintsViolated = (violations: ConstraintViolation[], argument: string) =>
  new BadInputError(
    `the plan breaks its constraints: ${violations.map((each) => each.message).join('; ')}`,
    {
      reason: 'CONSTRAINT_VIOLATED',
      violations,
    },
    argument,
  );

export const workflowFinished = (status: string) =>
  conflict(`the workflow has ended (${status})`, { reason: 'WORKFLOW_FINISHED', status });

export const stalePlanVersion = (given: number, current: number) =>
  conflict(`plan version ${given} is not the current one (${current}): read the plan again`, {
    reason: 'STALE_PLAN_VERSION',
    planVersion: current,
  });

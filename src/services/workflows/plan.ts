// planWorkflow and runWorkflow: a goal becomes a checked, estimated plan,
// stored as a PLANNED workflow for review; runWorkflow plans and starts in one call. Planning
// shares planTopic's rate limit (the same bucket per user).
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import { inTransaction, type Transaction } from '../../platform/db.js';
import { unlessAbandoned } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import { checkPlan } from '../../reports/planner/workflow-check.js';
import { constraintViolations, estimatePlan } from '../../reports/planner/workflow-estimate.js';
import { makeWorkflowPlan } from '../../reports/planner/workflow-plan.js';
import type { Caller } from '../auth/caller.js';
import { requireWrite } from '../auth/permissions.js';
import {
  advanceDepsOf,
  idempotencyHash,
  validIdempotencyKey,
  workflowByKey,
  type WorkflowDeps,
} from './idempotency.js';
import {
  normalizedPlanInput,
  planContext,
  validConstraints,
  validGoal,
  validParallelism,
  type PlanWorkflowInput,
} from './plan-input.js';
import { badWorkflowInput, constraintsViolated, planRefused } from './problems.js';
import { estimateInputs, numberedSteps } from './steps.js';
import { requireWriteRoute, startPlanned } from './start.js';
import { insertSteps } from './sql/insert-steps.js';
import { checkWebhookTargets } from '../webhooks/targets.js';

/** A checked plan with its estimates, not stored yet. */
async function makePlan(input: PlanWorkflowInput, caller: Caller, deps: WorkflowDeps) {
  const goal = validGoal(input.goal);
  const constraints = validConstraints(input.constraints);
  const maxParallelSteps = validParallelism(
    input.maxParallelSteps,
    deps.workflows.maxParallelSteps,
  );
  requireWrite(caller, caller.teamId, 'Team');
  const targets = await checkWebhookTargets(input, caller.teamId, caller, deps.webhooks);
  // As planTopic: counted before any work, in the same bucket.
  await deps.topicSettings.planLimiter.consume(caller.userId, 'plans');
  const { context, templateId } = await planContext(input, goal, caller);
  if (input.planner === 'LLM' && !deps.llm.planner)
    throw badWorkflowInput(
      'NO_LLM_PLANNER',
      'no LLM planner is configured (LLM_PROVIDER)',
      { field: 'planner' },
      'input.planner',
    );
  const limits = {
    maxSteps: deps.workflows.maxSteps,
    agentIds: new Set(context.agents.map((agent) => agent.id)),
  };
  // The workflow's id before its row: the plan's LLM calls are metered against it.
  const id = randomUUID();
  const outcome = await unlessAbandoned(deps.signal, () =>
    makeWorkflowPlan(context, {
      chat: input.planner === 'LOCAL' ? undefined : deps.llm.planner,
      budgetMs: deps.topicSettings.planBudgetMs,
      limits,
      call: { teamId: caller.teamId, apiKeyId: caller.apiKeyId, workflowId: id },
      signal: deps.signal,
      onFallback: (planner, reason) =>
        logger.warn({ planner, reason }, 'LLM workflow planner fell back to the local planner'),
    }),
  );
  const checked = checkPlan(outcome.steps, limits);
  if ('problem' in checked) throw planRefused(checked.problem, 'input');
  const inputs = await estimateInputs(deps.workflows, {
    llm: deps.llm,
    teamId: caller.teamId,
  });
  const estimate = estimatePlan(outcome.steps, checked.order, inputs);
  return {
    row: {
      id,
      teamId: caller.teamId,
      ownerId: caller.userId,
      goal,
      planner: outcome.planner,
      fellBack: outcome.fellBack,
      agentIds: context.agents.map((agent) => agent.id),
      templateId,
      constraints: constraints as Prisma.InputJsonValue,
      failurePolicy: input.failurePolicy ?? 'FAIL_WORKFLOW',
      maxParallelSteps,
      maxReplans: deps.workflows.maxReplans,
      ...targets,
    },
    steps: numberedSteps(outcome.steps, estimate.perStep),
    violations: constraintViolations(estimate, outcome.steps.length, constraints),
  };
}

async function storePlan(
  tx: Transaction,
  plan: Awaited<ReturnType<typeof makePlan>>,
  idempotency: { idempotencyKey: string; idempotencyHash: string } | null,
) {
  const workflow = await tx.client.workflow.create({
    data: { ...plan.row, ...idempotency },
    select: { id: true },
  });
  await insertSteps(tx.client, workflow.id, plan.steps);
  return workflow.id;
}

/** Plans without running: the PLANNED workflow's id. */
export async function planWorkflow(
  input: PlanWorkflowInput,
  caller: Caller,
  deps: WorkflowDeps,
): Promise<string> {
  const plan = await makePlan(input, caller, deps);
  return inTransaction((tx) => storePlan(tx, plan, null));
}

/**
 * Plans and starts; the same idempotency key (per user) with the same input answers with the
 * workflow it started, with other input is CONFLICT (IDEMPOTENCY_KEY_USED).
 */
export async function runWorkflow(
  input: PlanWorkflowInput,
  idempotencyKey: string | null | undefined,
  caller: Caller,
  deps: WorkflowDeps,
): Promise<string> {
  const key = validIdempotencyKey(idempotencyKey);
  const spent = key && {
    idempotencyKey: key,
    idempotencyHash: idempotencyHash({ runWorkflow: normalizedPlanInput(input) }),
  };
  const existing =
    spent && (await workflowByKey(caller, spent.idempotencyKey, spent.idempotencyHash));
  if (existing) return existing;
  const plan = await makePlan(input, caller, deps);
  if (plan.violations.length) throw constraintsViolated(plan.violations, 'input.constraints');
  if (plan.steps.some((step) => step.kind === 'WRITE_SECTION'))
    await requireWriteRoute(caller, deps);
  try {
    return await inTransaction(async (tx) => {
      const id = await storePlan(tx, plan, spent || null);
      await startPlanned(tx, id, caller.apiKeyId, advanceDepsOf(deps));
      return id;
    });
  } catch (error) {
    // Two runs with one key at once: the unique key lets one in; the other answers with it
    // (or, sent with other input, is refused).
    const winner =
      spent && (await workflowByKey(caller, spent.idempotencyKey, spent.idempotencyHash));
    if (winner) return winner;
    throw error;
  }
}

// Reviewing a plan before it runs: updateWorkflowPlan replaces a PLANNED
// workflow's steps at the version the caller saw; replanWorkflow asks the planner again (a
// running workflow: only its steps not yet started change).
import { unknownPluginStep } from '../plugins/steps.js';
import { inTransaction } from '../../platform/db.js';
import { conflict } from '../../platform/errors.js';
import { checkPlan } from '../../reports/planner/workflow-check.js';
import { estimatePlan } from '../../reports/planner/workflow-estimate.js';
import type { PlannedStep } from '../../reports/planner/workflow-types.js';
import type { Caller } from '../auth/caller.js';
import { visibleAgents } from './plan-input.js';
import { advanceDepsOf, type WorkflowDeps } from './idempotency.js';
import { badWorkflowInput, planRefused, stalePlanVersion, workflowFinished } from './problems.js';
import { requireWritableWorkflow } from './read.js';
import { replan } from './replan.js';
import { noSignals, noteLogs, signalAfterCommit } from './signals.js';
import { appendEvents } from './sql/append-events.js';
import { insertSteps } from './sql/insert-steps.js';
import { estimateInputs, numberedSteps } from './steps.js';

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Why an edit of `planVersion` is refused for the workflow as it stands; undefined: it is not. */
function editRefusal(workflow: { status: string; planVersion: number }, planVersion: number) {
  if (FINISHED.has(workflow.status)) return workflowFinished(workflow.status);
  if (workflow.status !== 'PLANNED')
    return conflict('a running workflow changes by replanWorkflow only', {
      reason: 'ALREADY_STARTED',
    });
  if (workflow.planVersion !== planVersion)
    return stalePlanVersion(planVersion, workflow.planVersion);
  return undefined;
}

export async function updateWorkflowPlan(
  workflowId: string,
  planVersion: number,
  steps: readonly PlannedStep[],
  caller: Caller,
  deps: WorkflowDeps,
): Promise<string> {
  const workflow = await requireWritableWorkflow(workflowId, caller);
  const refused = editRefusal(workflow, planVersion);
  if (refused) throw refused;
  const named = [...new Set(steps.flatMap((step) => step.agentId ?? []))];
  const agents = await visibleAgents(named, caller, {
    argument: 'steps',
    stepKeyOf: (agentId) => steps.find((step) => step.agentId === agentId)?.key,
  });
  const agentIds = new Set([...workflow.agentIds, ...agents.map((agent) => agent.id)]);
  const checked = checkPlan(steps, { maxSteps: deps.workflows.maxSteps, agentIds });
  if ('problem' in checked) throw planRefused(checked.problem, 'steps');
  const unknownPlugin = await unknownPluginStep(steps, workflow.teamId);
  if (unknownPlugin !== undefined)
    throw badWorkflowInput(
      'UNKNOWN_PLUGIN',
      `step ${unknownPlugin}: installationId is not a plugin of the workflow's team`,
      { stepKey: unknownPlugin },
      'steps',
    );
  const inputs = await estimateInputs(deps.workflows, {
    llm: deps.llm,
    teamId: workflow.teamId,
  });
  const estimate = estimatePlan(steps, checked.order, inputs);
  await inTransaction(async (tx) => {
    const { count } = await tx.client.workflow.updateMany({
      where: { id: workflow.id, status: 'PLANNED', planVersion },
      data: { planVersion: { increment: 1 }, agentIds: [...agentIds] },
    });
    // Changed since it was read (started, cancelled, edited): refused as it stands now.
    if (count === 0) {
      const now = await tx.client.workflow.findUniqueOrThrow({
        where: { id: workflow.id },
        select: { status: true, planVersion: true },
      });
      throw (
        editRefusal(now, planVersion) ??
        conflict('the workflow changed meanwhile: read it again', { reason: 'STALE_PLAN_VERSION' })
      );
    }
    await tx.client.workflowStep.deleteMany({ where: { workflowId: workflow.id } });
    await insertSteps(tx.client, workflow.id, numberedSteps(steps, estimate.perStep));
    const signals = noSignals();
    const message = `plan edited: ${steps.length} steps`;
    noteLogs(
      signals,
      await appendEvents(tx.client, [
        {
          workflowId: workflow.id,
          kind: 'PLAN',
          stepKey: null,
          status: 'PLANNED',
          progressPercent: 0,
          message,
        },
      ]),
    );
    signalAfterCommit(tx, deps.pubsub, signals);
  });
  return workflow.id;
}

export async function replanWorkflow(
  workflowId: string,
  planVersion: number,
  hint: string | null | undefined,
  caller: Caller,
  deps: WorkflowDeps,
): Promise<string> {
  const workflow = await requireWritableWorkflow(workflowId, caller);
  if (FINISHED.has(workflow.status)) throw workflowFinished(workflow.status);
  if (workflow.planVersion !== planVersion)
    throw stalePlanVersion(planVersion, workflow.planVersion);
  // A step's REPLAN is planning already, from results this caller has not seen yet.
  if (workflow.replanTaskId)
    throw conflict('a replan is under way (a step failed under REPLAN): read it again after', {
      reason: 'REPLAN_UNDER_WAY',
    });
  await deps.topicSettings.planLimiter.consume(caller.userId, 'plans');
  const text = hint?.trim() || null;
  const { workflows, topicSettings, llm } = deps;
  const replanDeps = { ...advanceDepsOf(deps), workflows, topicSettings, llm };
  if (!(await replan(workflow, { hint: text, apiKeyId: caller.apiKeyId }, replanDeps)))
    throw conflict('the workflow changed meanwhile: read it again', {
      reason: 'STALE_PLAN_VERSION',
    });
  return workflow.id;
}

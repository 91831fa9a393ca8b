// startWorkflow: a reviewed plan runs, at the version the caller reviewed; the
// same idempotency key (per user) at the same version answers with the workflow it started (at
// another version, or for another workflow: CONFLICT, IDEMPOTENCY_KEY_USED).
import { inTransaction, type Transaction } from '../../platform/db.js';
import type { WebhookTargetInput } from '../webhooks/delivery.js';
import { checkWebhookTargets } from '../webhooks/targets.js';
import { conflict } from '../../platform/errors.js';
import { requireUsableRoute } from '../llm/budget-check.js';
import type { Caller } from '../auth/caller.js';
import { appendEvents } from './sql/append-events.js';
import { readyWaitingSteps } from './sql/start-steps.js';
import { advanceWorkflows, type AdvanceDeps } from './progress.js';
import { constraintsViolated, stalePlanVersion, workflowFinished } from './problems.js';
import { noSignals, noteLogs } from './signals.js';
import { requireWritableWorkflow, workflowEstimate } from './read.js';
import {
  advanceDepsOf,
  idempotencyHash,
  validIdempotencyKey,
  workflowByKey,
  type WorkflowDeps,
} from './idempotency.js';

/**
 * PLANNED → RUNNING, its free steps READY and dispatched; in the caller's transaction. The
 * starting key's LLM budgets apply to the steps' calls (`apiKeyId`).
 */
export async function startPlanned(
  tx: Transaction,
  workflowId: string,
  apiKeyId: string | null,
  deps: AdvanceDeps,
): Promise<boolean> {
  const { count } = await tx.client.workflow.updateMany({
    where: { id: workflowId, status: 'PLANNED' },
    data: { status: 'RUNNING', startedAt: new Date(), apiKeyId },
  });
  if (count === 0) return false;
  const signals = noSignals();
  noteLogs(
    signals,
    await appendEvents(tx.client, [
      {
        workflowId,
        kind: 'WORKFLOW',
        stepKey: null,
        status: 'RUNNING',
        progressPercent: 0,
        message: 'started',
      },
    ]),
  );
  noteLogs(signals, await readyWaitingSteps(tx.client, workflowId));
  await advanceWorkflows(tx, [workflowId], signals, deps);
  return true;
}

export async function startWorkflow(
  workflowId: string,
  planVersion: number,
  idempotencyKey: string | null | undefined,
  caller: Caller,
  deps: WorkflowDeps,
  /** Where its end goes, in place of what the plan named (unset: as planned). */
  webhooks: WebhookTargetInput = {},
): Promise<string> {
  const key = validIdempotencyKey(idempotencyKey);
  const workflow = await requireWritableWorkflow(workflowId, caller);
  const targets = await checkWebhookTargets(
    webhooks,
    workflow.teamId,
    caller,
    deps.webhooks,
    'webhookUrl',
  );
  if ((await refuseUnlessStartable(workflow, planVersion, key, caller)) === 'started')
    return workflow.id;
  const { violations, writesSections } = await workflowEstimate(workflow.id);
  if (violations.length) throw constraintsViolated(violations, 'planVersion');
  if (writesSections) await requireWriteRoute(caller, deps);
  const started = await inTransaction(async (tx) => {
    // The version and status are checked again under the row's update.
    const { count } = await tx.client.workflow.updateMany({
      where: { id: workflow.id, status: 'PLANNED', planVersion },
      data: {
        idempotencyKey: key,
        idempotencyHash: key && startHash(planVersion),
        ...(targets.webhookUrl && { webhookUrl: targets.webhookUrl }),
        ...(targets.webhookEndpointId && { webhookEndpointId: targets.webhookEndpointId }),
      },
    });
    return count > 0 && (await startPlanned(tx, workflow.id, caller.apiKeyId, advanceDepsOf(deps)));
  });
  // Another start won the row: the same key's (its workflow is the answer) or another's.
  if (
    !started &&
    (await refuseUnlessStartable(
      await requireWritableWorkflow(workflowId, caller),
      planVersion,
      key,
      caller,
    )) === 'startable'
  )
    throw conflict('the workflow changed meanwhile: read it again', {
      reason: 'STALE_PLAN_VERSION',
    });
  return workflow.id;
}

/**
 * A plan that writes sections is refused at once, as generateTopicReport is, rather than
 * started to fail at its first section, when the caller's WRITE route has nothing usable
 * (requireUsableRoute: CONFLICT NO_USABLE_DEPLOYMENT, or RATE_LIMITED BUDGET_EXCEEDED).
 */
export function requireWriteRoute(caller: Caller, deps: Pick<WorkflowDeps, 'llm'>): Promise<void> {
  const scope = { teamId: caller.teamId, apiKeyId: caller.apiKeyId };
  return requireUsableRoute('WRITE', scope, deps.llm);
}

/** What startWorkflow's key is spent on (the workflow is the row that holds the key). */
const startHash = (planVersion: number) => idempotencyHash({ startWorkflow: { planVersion } });

/**
 * Returns when the workflow is this key's already (started by it) or may start at
 * `planVersion`; else the reason it may not: another workflow's key, ALREADY_STARTED, ended,
 * or a stale version.
 */
async function refuseUnlessStartable(
  workflow: { id: string; status: string; planVersion: number },
  planVersion: number,
  key: string | null,
  caller: Caller,
): Promise<'started' | 'startable'> {
  if (key) {
    const started = await workflowByKey(caller, key, startHash(planVersion));
    if (started === workflow.id) return 'started';
    if (started)
      throw conflict('this idempotency key started another workflow', {
        reason: 'IDEMPOTENCY_KEY_USED',
      });
  }
  if (workflow.status !== 'PLANNED')
    throw workflow.status === 'RUNNING'
      ? conflict('the workflow is running already', { reason: 'ALREADY_STARTED' })
      : workflowFinished(workflow.status);
  if (workflow.planVersion !== planVersion)
    throw stalePlanVersion(planVersion, workflow.planVersion);
  return 'startable';
}

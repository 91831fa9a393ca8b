// Planned steps as rows: each with its estimate, its place in the plan and the number of
// dependencies it waits on.
import { db } from '../../platform/db.js';
import type { EstimateInputs, UnitActuals } from '../../reports/planner/workflow-estimate.js';
import type { PlannedStep, StepEstimate, StepKind } from '../../reports/planner/workflow-types.js';
import type { LlmGateway } from '../../llm/gateway.js';
import type { WorkflowSettings } from './settings.js';
import type { NewStep } from './sql/insert-steps.js';
import { selectRecentActuals } from './sql/recent-actuals.js';

/** Where a plan's tokens are priced: the team's WRITE route, else the configured price. */
export interface PricedFor {
  llm: Pick<LlmGateway, 'catalog'>;
  teamId: string | null;
}

export async function estimateInputs(
  settings: Pick<WorkflowSettings, 'pricePerMillionTokens'>,
  pricedFor: PricedFor,
): Promise<EstimateInputs> {
  const actuals: UnitActuals = {};
  for (const row of await selectRecentActuals(db()))
    actuals[row.kind as StepKind] = { seconds: row.seconds, tokens: row.tokens };
  const routed = await writePrice(pricedFor);
  return { actuals, pricePerMillionTokens: routed ?? settings.pricePerMillionTokens };
}

/**
 * USD per million tokens of the team's WRITE route: the mean of the input and output prices
 * of its first deployment with both (the one a section goes to first unless it fails).
 */
async function writePrice({ llm, teamId }: PricedFor): Promise<number | undefined> {
  const view = await llm.catalog.view(teamId);
  for (const id of view.routes.get('WRITE')?.deploymentIds ?? []) {
    const deployment = view.deployments.get(id);
    if (deployment?.inputUsdPerMTok != null && deployment.outputUsdPerMTok != null)
      return (deployment.inputUsdPerMTok + deployment.outputUsdPerMTok) / 2;
  }
  return undefined;
}

/** `resolved`: keys of steps already over (a replan's tail does not wait on them). */
export function numberedSteps(
  steps: readonly PlannedStep[],
  estimates: ReadonlyMap<string, StepEstimate>,
  resolved: ReadonlySet<string> = new Set(),
  firstPosition = 0,
): NewStep[] {
  return steps.map((step, index) => {
    // A dependency named twice is one dependency (one edge, counted once).
    const dependsOn = [...new Set(step.dependsOn)];
    const waitingOn = dependsOn.filter((key) => !resolved.has(key)).length;
    return {
      key: step.key,
      kind: step.kind,
      agentId: step.agentId,
      input: step.input,
      dependsOn,
      failurePolicy: step.failurePolicy,
      complexity: step.complexity,
      estimate: estimates.get(step.key) ?? null,
      status: 'PENDING',
      waitingOn,
      position: firstPosition + index,
    };
  });
}

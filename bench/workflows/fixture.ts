// Workflows for the benchmarks, made through the services as the API makes them: NOOP plans of
// a given shape (layers, chains, fan-out, fan-in), and the operator as the caller.
import { db } from '../../src/platform/db.js';
import type { PubSub } from '../../src/platform/pubsub.js';
import type { PlannedStep } from '../../src/reports/planner/workflow-types.js';
import { operatorCaller, type Caller } from '../../src/services/auth/caller.js';
import { defaultTeamId } from '../../src/services/auth/default-team.js';
import type { BenchService } from '../service.js';
import { updateWorkflowPlan } from '../../src/services/workflows/edit.js';
import type { WorkflowDeps } from '../../src/services/workflows/idempotency.js';
import { planWorkflow } from '../../src/services/workflows/plan.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../src/services/workflows/settings.js';
import { startWorkflow } from '../../src/services/workflows/start.js';

export const noopStep = (
  key: string,
  dependsOn: string[] = [],
  input: Record<string, unknown> = {},
): PlannedStep => ({
  key,
  kind: 'NOOP',
  agentId: null,
  dependsOn,
  input,
  complexity: 1,
  failurePolicy: null,
});

/** `layers` × `width` steps, each depending on two steps of the layer before. */
export function layered(layers: number, width: number): PlannedStep[] {
  const steps: PlannedStep[] = [];
  for (let l = 0; l < layers; l++)
    for (let i = 0; i < width; i++)
      steps.push(
        noopStep(`l${l}-${i}`, l === 0 ? [] : [`l${l - 1}-${i}`, `l${l - 1}-${(i + 1) % width}`]),
      );
  return steps;
}

export const chain = (n: number, input: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => noopStep(`c${i}`, i ? [`c${i - 1}`] : [], input));

export interface BenchWorkflows {
  caller: Caller;
  deps: WorkflowDeps;
  /** A PLANNED workflow of `steps` (row id). */
  make(steps: PlannedStep[], maxParallelSteps?: number): Promise<string>;
  start(id: string): Promise<void>;
}

export async function benchWorkflows(
  pubsub: PubSub,
  { llm, topicSettings }: Pick<BenchService, 'llm' | 'topicSettings'>,
): Promise<BenchWorkflows> {
  const owner = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  const caller = operatorCaller(owner, await defaultTeamId());
  // Room for the fan-out and fan-in plans (1,001 steps).
  const deps: WorkflowDeps = {
    pubsub,
    llm,
    topicSettings,
    workflows: { ...DEFAULT_WORKFLOW_SETTINGS, maxSteps: 2_000 },
    webhooks: { allowPrivateTargets: true, maxAttempts: 4 },
  };
  return {
    caller,
    deps,
    async make(steps, maxParallelSteps = 16) {
      const id = await planWorkflow(
        { goal: 'bench', agentIds: [], maxParallelSteps },
        caller,
        deps,
      );
      await updateWorkflowPlan(id, 1, steps, caller, deps);
      return id;
    },
    async start(id) {
      await startWorkflow(id, 2, null, caller, deps);
    },
  };
}

// Workflows' enums and small value types: statuses, kinds, policies, costs.
import { roundUsd } from '../../platform/money.js';
import { builder } from '../builder.js';
import type {
  ConstraintViolation as ViolationShape,
  StepEstimate,
} from '../../services/workflows/types.js';

export const WorkflowStatus = builder.enumType('WorkflowStatus', {
  values: ['PLANNED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const,
  description:
    'PLANNED after planWorkflow (for review); RUNNING once started; SUCCEEDED when every ' +
    'step succeeded or was skipped by its policy, FAILED otherwise, CANCELLED by ' +
    'cancelWorkflow.',
});

export const WorkflowStepStatus = builder.enumType('WorkflowStepStatus', {
  values: ['PENDING', 'READY', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'] as const,
  description:
    'PENDING while a dependency has not ended; READY to run (its task queued); RUNNING; then ' +
    'SUCCEEDED, FAILED (FAIL_WORKFLOW), SKIPPED (a failure SKIP, SKIP_BRANCH or REPLAN ' +
    'absorbed, with its error; or a dependent under SKIP_BRANCH) or CANCELLED.',
});

export const WorkflowStepKind = builder.enumType('WorkflowStepKind', {
  values: [
    'RETRIEVE',
    'REFRESH_COVERAGE',
    'WRITE_SECTION',
    'SYNTHESIZE',
    'NOOP',
    'PLUGIN_TOOL',
    'PLUGIN_AGENT',
  ] as const,
  description:
    "RETRIEVE: queryAgent over the agent's scope. REFRESH_COVERAGE: the agent's coverage " +
    'computed and recorded. WRITE_SECTION: the configured report writer, grounded in its ' +
    "dependencies' passages. SYNTHESIZE: the sections as one artifact (Markdown, HWPX, " +
    'DOCX). NOOP: does nothing (input.waitMs: waits): a join point. PLUGIN_TOOL and ' +
    "PLUGIN_AGENT: a plugin of the workflow's team (input.installationId) run with " +
    'input.input (checked against its schema when the step runs).',
});

export const WorkflowFailurePolicy = builder.enumType('WorkflowFailurePolicy', {
  values: ['FAIL_WORKFLOW', 'SKIP', 'SKIP_BRANCH', 'REPLAN'] as const,
  description:
    "Applied after a step's retries. FAIL_WORKFLOW: every other step cancelled (running ones " +
    "aborted). SKIP: dependents run and see the failed input. SKIP_BRANCH: the step's " +
    'dependents are skipped too. REPLAN: the planner writes a new tail for the steps not yet ' +
    'started, and nothing new starts until it lands (at most WORKFLOW_MAX_REPLANS times, ' +
    'then FAIL_WORKFLOW).',
});

export const WorkflowPlannerChoice = builder.enumType('WorkflowPlannerChoice', {
  values: ['AUTO', 'LOCAL', 'LLM'] as const,
  description: 'AUTO (default): the LLM planner when one is configured, else the local one.',
});

export const WorkflowCost = builder.objectRef<StepEstimate>('WorkflowCost').implement({
  description:
    "Seconds, tokens and their cost in USD (estimated: tokens × the WRITE route's price; " +
    "actual: what the step's LLM calls were metered at).",
  fields: (t) => ({
    seconds: t.exposeFloat('seconds'),
    tokens: t.int({
      description: "At most GraphQL's largest Int (2,147,483,647): a count past it reads as that.",
      // A provider's usage is what it reports; a sum past Int failed the whole field.
      resolve: (cost) => Math.min(cost.tokens, 2_147_483_647),
    }),
    costUsd: t.float({ resolve: (cost) => roundUsd(cost.costUsd) }),
  }),
});

export const ConstraintViolation = builder
  .objectRef<ViolationShape>('ConstraintViolation')
  .implement({
    fields: (t) => ({
      constraint: t.exposeString('constraint', {
        description: 'TIME (the critical path), COST or STEPS.',
      }),
      limit: t.exposeFloat('limit'),
      estimate: t.exposeFloat('estimate'),
      message: t.exposeString('message'),
    }),
  });

export const WorkflowConstraintsInput = builder.inputType('WorkflowConstraintsInput', {
  fields: (t) => ({
    maxSeconds: t.float({ description: "The critical path's estimated seconds at most." }),
    maxCostUsd: t.float(),
    maxSteps: t.int(),
  }),
});

const ZERO: StepEstimate = { seconds: 0, tokens: 0, costUsd: 0 };
/** A stored estimate or actual (JSON) as a cost. */
export const costOf = (value: unknown): StepEstimate => ({
  ...ZERO,
  ...(value as Partial<StepEstimate> | null),
});

// The workflow mutations: plan for review, edit, start, run, cancel, retry,
// replan. Thin: arguments decoded here, the rules in src/services/workflows.
import { builder } from '../builder.js';
import { optionalRowId, rowIdOrNone } from '../ids.js';
import { db } from '../../platform/db.js';
import type { PlannedStep } from '../../services/workflows/types.js';
import { workflowVisibleTo } from '../../services/auth/visibility.js';
import { cancelWorkflow } from '../../services/workflows/cancel.js';
import { replanWorkflow, updateWorkflowPlan } from '../../services/workflows/edit.js';
import type { PlanWorkflowInput as PlanInput } from '../../services/workflows/plan-input.js';
import { planWorkflow, runWorkflow } from '../../services/workflows/plan.js';
import { retryWorkflow } from '../../services/workflows/retry.js';
import { startWorkflow } from '../../services/workflows/start.js';
import type { Context } from '../builder.js';
import { agentRowId, namingSentAgents } from './agent-ids.js';
import { Workflow } from './workflow.js';
import { WEBHOOK_ENDPOINT_HELP, WEBHOOK_URL_HELP } from '../webhooks/help.js';
import { WorkflowConstraintsInput, WorkflowFailurePolicy, WorkflowPlannerChoice } from './types.js';

const PlanWorkflowInput = builder.inputType('PlanWorkflowInput', {
  fields: (t) => ({
    goal: t.string({
      required: true,
      description:
        '1-2,000 characters once runs of whitespace are collapsed and the ends trimmed, ' +
        'counted as people read them (an emoji, a flag or a letter with its accents is one); ' +
        'not only invisible characters (EMPTY), no control characters (CONTROL_CHARACTER); ' +
        'the value as sent:',
    }),
    agentIds: t.idList({
      required: true,
      description: 'The agents the plan draws on (each one the caller sees; at most 32).',
    }),
    templateId: t.id({ description: "A template whose guide's headings are the outline." }),
    constraints: t.field({ type: WorkflowConstraintsInput }),
    planner: t.field({ type: WorkflowPlannerChoice }),
    failurePolicy: t.field({
      type: WorkflowFailurePolicy,
      description: "Every step's, unless it has its own (default FAIL_WORKFLOW).",
    }),
    maxParallelSteps: t.int({
      description: 'Steps running at once (1-1,000; default WORKFLOW_MAX_PARALLEL_STEPS).',
    }),
    webhookUrl: t.string({ description: WEBHOOK_URL_HELP }),
    webhookEndpointId: t.id({ description: WEBHOOK_ENDPOINT_HELP }),
  }),
});

const WorkflowStepInput = builder.inputType('WorkflowStepInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    kind: t.string({
      required: true,
      description: 'A WorkflowStepKind (UNKNOWN_STEP_KIND otherwise).',
    }),
    agentId: t.id(),
    dependsOn: t.stringList(),
    input: t.field({ type: 'JSON' }),
    failurePolicy: t.field({ type: WorkflowFailurePolicy }),
    complexity: t.float({ description: '0.7, 1.0 (default) or 1.5.' }),
  }),
});

type PlanArgs = {
  goal: string;
  agentIds: readonly string[];
  templateId?: string | null;
  constraints?: PlanInput['constraints'];
  planner?: PlanInput['planner'];
  failurePolicy?: PlanInput['failurePolicy'];
  maxParallelSteps?: number | null;
  webhookUrl?: string | null;
  webhookEndpointId?: string | null;
};

const planInput = (input: PlanArgs): PlanInput => ({
  ...input,
  // An id that is not an Agent's is an agent the caller cannot see: UNKNOWN_AGENT, as any other
  // (kept apart, not a row id, so the refusal counts each one).
  agentIds: input.agentIds.map(agentRowId),
  templateId: optionalRowId('Template', input.templateId),
  webhookEndpointId: optionalRowId('WebhookEndpoint', input.webhookEndpointId),
});

/** The workflow a service answered with, as the caller sees it (with the selection's relations). */
const answer = (query: object, id: string, ctx: Context) =>
  db().workflow.findFirstOrThrow({
    ...query,
    where: { AND: [{ id }, workflowVisibleTo(ctx.caller)] },
  });

builder.mutationField('planWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      "A plan (PLANNED) for review, not run. Shares planTopic's rate limit (RATE_LIMITED).",
    authScopes: { write: true },
    args: { input: t.arg({ type: PlanWorkflowInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      answer(
        query,
        await namingSentAgents(input.agentIds, () =>
          planWorkflow(planInput(input), ctx.caller, ctx),
        ),
        ctx,
      ),
  }),
);

builder.mutationField('runWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      'Plans and starts in one call; the same idempotencyKey (per user) with the same input ' +
      'answers with the workflow it started, with other input is CONFLICT ' +
      '(IDEMPOTENCY_KEY_USED).',
    authScopes: { write: true },
    args: {
      input: t.arg({ type: PlanWorkflowInput, required: true }),
      idempotencyKey: t.arg.string(),
    },
    resolve: async (query, _root, args, ctx) =>
      answer(
        query,
        await namingSentAgents(args.input.agentIds, () =>
          runWorkflow(planInput(args.input), args.idempotencyKey, ctx.caller, ctx),
        ),
        ctx,
      ),
  }),
);

builder.mutationField('updateWorkflowPlan', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      "Replaces a PLANNED workflow's steps; planVersion must be the current one (CONFLICT otherwise).",
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      planVersion: t.arg.int({ required: true }),
      steps: t.arg({ type: [WorkflowStepInput], required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const steps: PlannedStep[] = args.steps.map((step) => ({
        key: step.key,
        kind: step.kind,
        agentId: step.agentId ? agentRowId(step.agentId) : null,
        dependsOn: step.dependsOn ?? [],
        input: (step.input ?? {}) as Record<string, unknown>,
        complexity: step.complexity ?? 1,
        failurePolicy: step.failurePolicy ?? null,
      }));
      return answer(
        query,
        await namingSentAgents(
          args.steps.map((step) => step.agentId),
          () =>
            updateWorkflowPlan(
              rowIdOrNone('Workflow', args.id),
              args.planVersion,
              steps,
              ctx.caller,
              ctx,
            ),
        ),
        ctx,
      );
    },
  }),
);

builder.mutationField('startWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      'Runs a PLANNED workflow at the plan version the caller reviewed (CONFLICT when stale ' +
      'or ended); the same idempotencyKey at the same version answers with it, at another ' +
      'CONFLICT (IDEMPOTENCY_KEY_USED).',
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      planVersion: t.arg.int({ required: true }),
      idempotencyKey: t.arg.string(),
      webhookUrl: t.arg.string({ description: `${WEBHOOK_URL_HELP} Unset: as planned.` }),
      webhookEndpointId: t.arg.id({ description: `${WEBHOOK_ENDPOINT_HELP} Unset: as planned.` }),
    },
    resolve: async (query, _root, args, ctx) =>
      answer(
        query,
        await startWorkflow(
          rowIdOrNone('Workflow', args.id),
          args.planVersion,
          args.idempotencyKey,
          ctx.caller,
          ctx,
          {
            webhookUrl: args.webhookUrl,
            webhookEndpointId: optionalRowId('WebhookEndpoint', args.webhookEndpointId),
          },
        ),
        ctx,
      ),
  }),
);

builder.mutationField('cancelWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      'Cancels the workflow, its open steps and their tasks in one statement; harmless to repeat.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      answer(query, await cancelWorkflow(rowIdOrNone('Workflow', args.id), ctx.caller, ctx), ctx),
  }),
);

builder.mutationField('retryWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      'Reruns a failed (or skipped, or cancelled) step and every step downstream of it ' +
      'whatever its status, with every step that failed or was cancelled (and theirs); every ' +
      'other step keeps its result. Only a workflow that ended FAILED or CANCELLED: while it ' +
      'runs, CONFLICT (STILL_RUNNING).',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }), fromStepKey: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      answer(
        query,
        await retryWorkflow(rowIdOrNone('Workflow', args.id), args.fromStepKey, ctx.caller, ctx),
        ctx,
      ),
  }),
);

builder.mutationField('replanWorkflow', (t) =>
  t.prismaField({
    type: Workflow,
    description:
      "Asks the planner again (a PLANNED workflow is planned anew; a running one's steps not " +
      "yet started change). Shares planTopic's rate limit. CONFLICT (REPLAN_UNDER_WAY) while " +
      "a step's REPLAN is planning.",
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      planVersion: t.arg.int({ required: true }),
      hint: t.arg.string(),
    },
    resolve: async (query, _root, args, ctx) =>
      answer(
        query,
        // The new plan's agents are the workflow's: any it names are global ids too.
        await namingSentAgents([], () =>
          replanWorkflow(
            rowIdOrNone('Workflow', args.id),
            args.planVersion,
            args.hint,
            ctx.caller,
            ctx,
          ),
        ),
        ctx,
      ),
  }),
);

// Workflow and WorkflowStep: a goal's plan, its steps with estimates and actuals,
// its totals and critical path, its log; and the caller's teams' workflows to read.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../builder.js';
import { noRow } from '../no-row.js';
import { rowIdOrNone } from '../ids.js';
import { db } from '../../platform/db.js';
import { pageSize } from '../../platform/pagination.js';
import {
  artifactVisibleTo,
  isTeamRowVisibleTo,
  taskVisibleTo,
  webhookDeliveryVisibleTo,
} from '../../services/auth/visibility.js';
import { progressPercentOf, selectWorkflowEventsAfter } from '../../services/workflows/events.js';
import { listWorkflows, ownWorkflowWhere, totalsOf } from '../../services/workflows/read.js';
import { Agent } from '../agents.js';
import { Task } from '../tasks.js';
import { Artifact } from '../topics/artifact.js';
import { WorkflowEvent } from './event.js';
import {
  ConstraintViolation,
  costOf,
  WorkflowCost,
  WorkflowFailurePolicy,
  WorkflowStatus,
  WorkflowStepKind,
  WorkflowStepStatus,
} from './types.js';
import { checkAfterSequence } from '../log-position.js';

builder.prismaObject('WorkflowStep', {
  description: 'One step of a plan: run as one task of the queue; its result stays here.',
  fields: (t) => ({
    key: t.exposeString('key'),
    kind: t.expose('kind', { type: WorkflowStepKind }),
    agent: t.field({
      type: Agent,
      nullable: true,
      select: (_args, _ctx, nestedSelection) => ({ agent: nestedSelection(true) }),
      resolve: (step, _args, ctx) =>
        step.agent && isTeamRowVisibleTo(step.agent, ctx.caller) ? step.agent : null,
    }),
    dependsOn: t.exposeStringList('dependsOn'),
    input: t.expose('input', { type: 'JSON' }),
    status: t.expose('status', { type: WorkflowStepStatus }),
    failurePolicy: t.expose('failurePolicy', {
      type: WorkflowFailurePolicy,
      nullable: true,
      description: "null: the workflow's.",
    }),
    complexity: t.exposeFloat('complexity', {
      description: '0.7, 1.0 or 1.5: scales the estimate.',
    }),
    estimate: t.field({
      type: WorkflowCost,
      select: { estimate: true },
      resolve: (step) => costOf(step.estimate),
    }),
    actual: t.field({
      type: WorkflowCost,
      nullable: true,
      select: { actual: true },
      resolve: (step) => (step.actual ? costOf(step.actual) : null),
    }),
    attempts: t.exposeInt('attempts'),
    result: t.expose('result', { type: 'JSON', nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    task: t.prismaField({
      type: Task,
      nullable: true,
      description:
        'The task of its latest run. Null before its task row is written: a run that ended before ' +
        'anything else of it was written never has one (the step records it), and task ' +
        'retention deletes the others in time.',
      select: { taskId: true },
      resolve: (query, step, _args, ctx) =>
        step.taskId
          ? db().task.findFirst({
              ...query,
              where: { AND: [{ id: step.taskId }, taskVisibleTo(ctx.caller)] },
            })
          : noRow(query),
    }),
  }),
});

export const Workflow = builder.prismaNode('Workflow', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ownWorkflowWhere(id, ctx.caller),
  description: "A goal planned into agent steps, run as a durable task workflow (its team's).",
  fields: (t) => ({
    goal: t.exposeString('goal'),
    status: t.expose('status', { type: WorkflowStatus }),
    planVersion: t.exposeInt('planVersion', {
      description: 'Every edit or replan makes a new one; edits and starts name the one they saw.',
    }),
    planner: t.exposeString('planner', {
      description: 'Who made the current plan: local, openai or anthropic.',
    }),
    fellBack: t.exposeBoolean('fellBack', {
      description:
        "true when the LLM planner's plan was late or invalid and the local plan was used.",
    }),
    failurePolicy: t.expose('failurePolicy', { type: WorkflowFailurePolicy }),
    maxParallelSteps: t.exposeInt('maxParallelSteps'),
    replans: t.exposeInt('replans'),
    error: t.exposeString('error', { nullable: true }),
    steps: t.relation('steps', { query: { orderBy: [{ position: 'asc' }] } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    webhookDeliveries: t.relation('webhookDeliveries', {
      description:
        'Attempts to post its end to its own webhookUrl, oldest first (its endpoints list ' +
        'theirs: WebhookEndpoint.deliveries).',
      query: (_args, ctx) => ({
        where: webhookDeliveryVisibleTo(ctx.caller),
        orderBy: [{ deliveredAt: 'asc' }, { attempt: 'asc' }],
      }),
    }),
  }),
});

const planSelect = {
  constraints: true,
  steps: { select: { key: true, dependsOn: true, estimate: true } },
} as const;

// The plan's totals, from its steps' estimates.
builder.prismaObjectFields(Workflow, (t) => ({
  estimate: t.field({
    type: WorkflowCost,
    description: "Sums over the steps' estimates.",
    select: planSelect,
    resolve: (workflow) => totalsOf(workflow.steps, workflow.constraints).total,
  }),
  criticalPath: t.stringList({
    description: 'The longest chain of dependencies by estimated seconds, in running order.',
    select: planSelect,
    resolve: (workflow) => totalsOf(workflow.steps, workflow.constraints).criticalPath,
  }),
  criticalPathSeconds: t.float({
    description: 'The estimated wall time with enough workers.',
    select: planSelect,
    resolve: (workflow) => totalsOf(workflow.steps, workflow.constraints).criticalPathSeconds,
  }),
  constraintViolations: t.field({
    type: [ConstraintViolation],
    description: 'What the plan breaks (startWorkflow refuses it with CONSTRAINT_VIOLATED).',
    select: planSelect,
    resolve: (workflow) => totalsOf(workflow.steps, workflow.constraints).violations,
  }),
}));

function sumOfActuals(steps: ReadonlyArray<{ actual: unknown }>) {
  const sum = { seconds: 0, tokens: 0, costUsd: 0 };
  for (const step of steps) {
    const cost = costOf(step.actual);
    sum.seconds += cost.seconds;
    sum.tokens += cost.tokens;
    sum.costUsd += cost.costUsd;
  }
  // Rounded as each step's is (milliseconds, micro-dollars): a sum of doubles shows float noise.
  return {
    seconds: Number(sum.seconds.toFixed(3)),
    tokens: sum.tokens,
    costUsd: Number(sum.costUsd.toFixed(6)),
  };
}

const percentDone = (status: string, steps: ReadonlyArray<{ status: string }>) =>
  progressPercentOf(
    status,
    steps.filter((s) => s.status === 'SUCCEEDED' || s.status === 'SKIPPED').length,
    steps.length,
  );

// How far it has run: actuals, progress, the artifact, the log.
builder.prismaObjectFields(Workflow, (t) => ({
  actual: t.field({
    type: WorkflowCost,
    description: "Sums over the steps' actuals so far.",
    select: { steps: { select: { actual: true } } },
    resolve: (workflow) => sumOfActuals(workflow.steps),
  }),
  progressPercent: t.int({
    description: 'Steps ended well (succeeded or skipped), in percent of all.',
    select: { status: true, steps: { select: { status: true } } },
    resolve: ({ status, steps }) => percentDone(status, steps),
  }),
  artifact: t.prismaField({
    type: Artifact,
    nullable: true,
    description: 'The artifact of its latest synthesis.',
    select: { steps: { where: { kind: 'SYNTHESIZE', status: 'SUCCEEDED' }, select: { id: true } } },
    resolve: (query, workflow, _args, ctx) =>
      workflow.steps.length
        ? db().artifact.findFirst({
            ...query,
            where: {
              AND: [
                { id: { in: workflow.steps.map((step) => step.id) } },
                artifactVisibleTo(ctx.caller),
              ],
            },
            orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          })
        : noRow(query),
  }),
  events: t.field({
    type: [WorkflowEvent],
    description:
      'Its log, in sequence order: the events after `afterSequence` (default 0), at most ' +
      '`first` (default 100; 0 to 500, else BAD_USER_INPUT).',
    args: { afterSequence: t.arg.int(), first: t.arg.int() },
    select: { id: true },
    resolve: (workflow, args) => {
      checkAfterSequence(args.afterSequence);
      return selectWorkflowEventsAfter(
        workflow.id,
        args.afterSequence ?? 0,
        pageSize(args.first, 500, 100),
      );
    },
  }),
}));

const WorkflowConnection = builder.connectionObject(
  {
    type: Workflow,
    name: 'WorkflowConnection',
    fields: (t) => ({
      totalCount: t.int({
        resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
      }),
    }),
  },
  { name: 'WorkflowEdge' },
);

builder.queryField('workflow', (t) =>
  t.prismaField({
    type: Workflow,
    nullable: true,
    description: "null for an unknown id and for another team's workflow.",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      db().workflow.findUnique({
        ...query,
        where: ownWorkflowWhere(rowIdOrNone('Workflow', id), ctx.caller),
      }),
  }),
);

builder.queryField('workflows', (t) =>
  t.field({
    type: WorkflowConnection,
    description: "The workflows of the caller's teams, newest first; `status` filters.",
    authScopes: { read: true },
    args: { status: t.arg({ type: WorkflowStatus }), first: t.arg.int(), after: t.arg.string() },
    resolve: (_root, args, ctx, info) =>
      listWorkflows(
        ctx.caller,
        args,
        queryFromInfo({ context: ctx, info, typeName: 'Workflow', path: ['edges', 'node'] }),
      ) as never,
  }),
);

import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from './builder.js';
import { db } from '../platform/db.js';
import { checkAfterSequence } from './log-position.js';
import { selectsAnyField } from './selection.js';
import { rowIdWhere } from '../platform/ids.js';
import { optionalRowId, rowIdOrNone } from './ids.js';
import {
  isTeamRowVisibleTo,
  taskVisibleTo,
  webhookDeliveryVisibleTo,
} from '../services/auth/visibility.js';
import { refreshCoverage } from '../services/coverage/refresh.js';
import type { CoverageReport as CoverageReportShape } from '../services/coverage/coverage.js';
import { estimateCompletion, queuePosition } from '../services/tasks/queue-info.js';
import { taskEventPage, type TaskEventRow } from '../services/tasks/task-events.js';
import { reportWebhookUrl } from '../services/topics/tasks/report-generation.js';
import {
  attemptHistoryOf,
  cancelTask,
  listTasks,
  TASK_COUNT_EXACT_CAP,
  type TaskCount,
  TASK_ATTEMPT_OUTCOMES,
  type TaskAttemptRow,
  requireTaskForCaller,
  retryTask,
  visibleTaskWhere,
  type TaskRow,
} from '../services/tasks/tasks.js';
import { Agent } from './agents.js';
import { CoverageReport } from './coverage.js';

const TaskStatus = builder.enumType('TaskStatus', {
  values: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'] as const,
  description:
    'DEAD: retries exhausted (the dead-letter state); retryTask puts it back to PENDING.',
});
export const TaskPriority = builder.enumType('TaskPriority', {
  values: ['HIGH', 'MEDIUM', 'LOW'] as const,
});

const TaskAttemptOutcome = builder.enumType('TaskAttemptOutcome', {
  values: TASK_ATTEMPT_OUTCOMES,
  description:
    'FAILED: the handler threw (retried while attempts are left, else DEAD); LEASE_LOST: its ' +
    'worker stopped renewing the lease (died, froze); INTERRUPTED: the database went away ' +
    'while it ran (retried as a lost lease is, within TASK_MAX_LEASE_LOSSES, not its ' +
    'attempts); POSTPONED: it asked to run again once what it waits on is available (an LLM ' +
    'route cooling down; retried after that wait, within TASK_MAX_POSTPONEMENTS, not its ' +
    'attempts); HANDED_BACK: its worker shut down first.',
});

const TaskAttempt = builder.objectRef<TaskAttemptRow>('TaskAttempt').implement({
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    workerId: t.exposeString('workerId', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    endedAt: t.expose('endedAt', { type: 'DateTime' }),
    outcome: t.expose('outcome', { type: TaskAttemptOutcome }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

export const Task = builder.prismaNode('Task', {
  id: { field: 'id' },
  // node(id) sees what task(id) sees: another team's task is null.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [taskVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    type: t.exposeString('type'),
    status: t.expose('status', { type: TaskStatus }),
    priority: t.expose('priority', { type: TaskPriority }),
    progressPercent: t.exposeInt('progressPercent'),
    currentStep: t.exposeString('currentStep', { nullable: true }),
    queuePosition: t.int({
      nullable: true,
      description: '1-based place in the claim order while PENDING, else null.',
      select: { status: true },
      resolve: (task) => (task.status === 'PENDING' ? queuePosition(task.id) : null),
    }),
    estimatedCompletionAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'From recent run times of this task type and the live workers; null once finished.',
      select: {
        type: true,
        status: true,
        startedAt: true,
        progressPercent: true,
        timeoutSeconds: true,
      },
      resolve: (task) => estimateCompletion(task),
    }),
    attempts: t.exposeInt('attempts', {
      description:
        'Runs begun, counted at the claim (so 1 while its first run waits in a worker), ' +
        'those a lost lease or the database going away ended, or that were postponed ' +
        '(LEASE_LOST, INTERRUPTED, POSTPONED), included.',
    }),
    maxAttempts: t.exposeInt('maxAttempts', {
      description:
        'Runs that may fail before it is DEAD. Runs ended by a lost lease or by the database ' +
        'going away do not count against it: they spend a budget of their own ' +
        '(TASK_MAX_LEASE_LOSSES), and so do postponed runs (TASK_MAX_POSTPONEMENTS), so ' +
        '`attempts` may exceed it.',
    }),
    result: t.expose('result', { type: 'JSON', nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    cancellationRequested: t.exposeBoolean('cancellationRequested'),
    webhookUrl: t.string({
      nullable: true,
      description:
        "Where its end is posted: the URL it was enqueued with (a report generation's, the " +
        'webhookUrl generateTopicReport was given).',
      select: { webhookUrl: true, type: true, payload: true },
      resolve: (task) => task.webhookUrl ?? reportWebhookUrl(task),
    }),
    workerId: t.exposeString('workerId', {
      nullable: true,
      description: 'The worker that ran (or runs) its latest attempt; null until one claims it.',
    }),
    attemptHistory: t.field({
      type: [TaskAttempt],
      description:
        'Every attempt that ended, oldest first: who ran it, when, how it ended and why. ' +
        '`attempts` counts the attempts (a handed-back one not).',
      select: {
        attemptLog: true,
        status: true,
        attempts: true,
        workerId: true,
        startedAt: true,
        completedAt: true,
        error: true,
      },
      resolve: (task) => attemptHistoryOf(task),
    }),
    agent: t.field({
      type: Agent,
      nullable: true,
      description: 'null when none, deleted, or of a team the caller is not in.',
      select: (_args, _ctx, nestedSelection) => ({ agent: nestedSelection(true) }),
      resolve: (task, _args, ctx) =>
        task.agent && isTeamRowVisibleTo(task.agent, ctx.caller) ? task.agent : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    webhookDeliveries: t.relation('webhookDeliveries', {
      query: (_args, ctx) => ({
        where: webhookDeliveryVisibleTo(ctx.caller),
        orderBy: { attempt: 'asc' },
      }),
    }),
  }),
});

export const TaskEvent = builder.objectRef<TaskEventRow>('TaskEvent').implement({
  fields: (t) => ({
    sequence: t.exposeInt('sequence'),
    status: t.expose('status', { type: TaskStatus }),
    progressPercent: t.exposeInt('progressPercent'),
    currentStep: t.exposeString('currentStep', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
    task: t.prismaField({
      type: Task,
      resolve: (query, event, _args, ctx) =>
        db().task.findFirstOrThrow({
          ...query,
          where: { AND: [{ id: event.taskId }, taskVisibleTo(ctx.caller)] },
        }),
    }),
  }),
});

builder.prismaObjectFields(Task, (t) => ({
  events: t.connection(
    {
      type: TaskEvent,
      description:
        'The append-only log of every change, oldest first. Pages forward only: `last` and ' +
        '`before` are refused (BAD_USER_INPUT).',
      resolve: (task, args) => taskEventPage(task.id, args),
    },
    { name: 'TaskEventConnection' },
    { name: 'TaskEventEdge' },
  ),
}));

/** A task list's count (listTasks), made when a field first asks for it. */
const countOf = (connection: object) => (connection as { count: () => Promise<TaskCount> }).count();

/** What a task connection's selection loads with its page. */
const taskSelection = (context: object, info: GraphQLResolveInfo) =>
  queryFromInfo({ context, info, typeName: 'Task', path: ['edges', 'node'] });

/** Whether a task connection's selection wants its total: then counted beside the page. */
const countNow = (info: GraphQLResolveInfo) => ({
  countNow: selectsAnyField(info, ['totalCount', 'totalCountIsEstimate']),
});

const TaskConnection = builder.connectionObject(
  {
    type: Task,
    name: 'TaskConnection',
    fields: (t) => ({
      totalCount: t.int({
        resolve: async (connection) => (await countOf(connection)).count,
      }),
      totalCountIsEstimate: t.boolean({
        description:
          `True when totalCount is the planner's estimate: past ` +
          `${TASK_COUNT_EXACT_CAP.toLocaleString('en-US')} matching tasks they are not counted one by one.`,
        resolve: async (connection) => (await countOf(connection)).isEstimate,
      }),
    }),
  },
  { name: 'TaskEdge' },
);

builder.prismaObjectFields(Agent, (t) => ({
  tasks: t.field({
    type: TaskConnection,
    description: "The agent's tasks visible to the caller, newest first.",
    args: { status: t.arg({ type: [TaskStatus] }), first: t.arg.int(), after: t.arg.string() },
    resolve: (agent, args, ctx, info) =>
      listTasks(
        ctx.caller,
        { ...args, agentId: agent.id },
        taskSelection(ctx, info),
        countNow(info),
      ) as never,
  }),
}));

builder.queryField('task', (t) =>
  t.prismaField({
    type: Task,
    nullable: true,
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      db().task.findFirst({
        ...query,
        where: visibleTaskWhere(rowIdOrNone('Task', id), ctx.caller),
      }),
  }),
);

builder.queryField('tasks', (t) =>
  t.field({
    type: TaskConnection,
    description:
      "The tasks of the caller's teams (the operator: every task), newest first, filtered by " +
      'every argument given (each list: any of its values, so an empty one matches none; ' +
      'from/to: created in [from, to)).',
    authScopes: { read: true },
    args: {
      status: t.arg({ type: [TaskStatus] }),
      type: t.arg.stringList({ description: 'Task types, e.g. coverage_refresh.' }),
      priority: t.arg({ type: [TaskPriority] }),
      from: t.arg({ type: 'DateTime', description: 'Created at or after.' }),
      to: t.arg({ type: 'DateTime', description: 'Created before.' }),
      workerId: t.arg.string({ description: 'Ran (its latest attempt) on this worker.' }),
      agentId: t.arg.id(),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx, info) =>
      listTasks(
        ctx.caller,
        { ...args, agentId: args.agentId ? rowIdOrNone('Agent', args.agentId) : undefined },
        taskSelection(ctx, info),
        countNow(info),
      ) as never,
  }),
);

const RefreshCoverageInput = builder.inputType('RefreshCoverageInput', {
  fields: (t) => ({
    agentId: t.id({ required: true }),
    background: t.boolean({ defaultValue: true }),
    priority: t.field({ type: TaskPriority, defaultValue: 'MEDIUM' }),
    webhookUrl: t.string(),
    webhookEndpointId: t.id({
      description:
        "An endpoint of the caller's team to send the task's end to; another's: NOT_FOUND.",
    }),
    idempotencyKey: t.string({
      description:
        'The same key (per caller, 24 h) with the same input returns the same task; with other ' +
        'input it is a CONFLICT (reason IDEMPOTENCY_KEY_USED).',
    }),
  }),
});

const RefreshCoveragePayload = builder
  .objectRef<{ task: TaskRow | null; coverage: CoverageReportShape | null }>(
    'RefreshCoveragePayload',
  )
  .implement({
    description: 'task when background, coverage when not.',
    fields: (t) => ({
      // The row the enqueue statement returned, not read again; relations and the attempt log
      // (which the queue's statements leave out) load on demand.
      task: t.field({ type: Task, nullable: true, resolve: (payload) => payload.task as never }),
      coverage: t.field({
        type: CoverageReport,
        nullable: true,
        resolve: (payload) => payload.coverage,
      }),
    }),
  });

builder.mutationField('refreshCoverage', (t) =>
  t.field({
    type: RefreshCoveragePayload,
    description:
      'background (default): returns at once with a PENDING task; otherwise computes now.',
    authScopes: { write: true },
    args: { input: t.arg({ type: RefreshCoverageInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      refreshCoverage(
        {
          ...input,
          agentId: rowIdOrNone('Agent', input.agentId),
          webhookEndpointId: optionalRowId('WebhookEndpoint', input.webhookEndpointId),
        },
        ctx.caller,
        ctx,
      ),
  }),
);

builder.mutationField('cancelTask', (t) =>
  t.prismaField({
    type: Task,
    description:
      'PENDING: cancelled at once, never runs. RUNNING: asked to stop (within a second); ' +
      'the answer is read once the worker was told, so a run that stopped already shows CANCELLED. ' +
      'Finished: CONFLICT.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const task = await cancelTask(rowIdOrNone('Task', id), ctx.caller, ctx);
      return db().task.findUniqueOrThrow({ ...query, where: { id: task.id } });
    },
  }),
);

builder.mutationField('retryTask', (t) =>
  t.prismaField({
    type: Task,
    description:
      'Puts a FAILED, DEAD, TIMEOUT or CANCELLED task back to PENDING with fresh attempts.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const retried = await retryTask(rowIdOrNone('Task', id), ctx.caller, ctx.pubsub);
      const row = await db().task.findUniqueOrThrow({ ...query, where: { id: retried.id } });
      // The task as the retry left it: a worker woken by it may have claimed it by this read.
      return { ...row, ...retried };
    },
  }),
);

builder.subscriptionField('taskProgress', (t) =>
  t.field({
    type: TaskEvent,
    description:
      'The current state first (or every event after afterSequence, from the log), then ' +
      'every change; ends after the terminal state (the last one of its log: a replay across ' +
      'a failure that a retry went on from follows the retry). afterSequence is a sequence ' +
      'received: 0 to the last, else BAD_USER_INPUT (reason NEGATIVE or AFTER_LAST_EVENT).',
    authScopes: { read: true },
    args: { taskId: t.arg.id({ required: true }), afterSequence: t.arg.int() },
    subscribe: async (_root, { taskId, afterSequence }, ctx) => {
      const task = await requireTaskForCaller(rowIdOrNone('Task', taskId), ctx.caller);
      checkAfterSequence(afterSequence, task.lastSequence);
      return ctx.feeds.tasks.follow(task.id, afterSequence);
    },
    resolve: (event) => event,
  }),
);

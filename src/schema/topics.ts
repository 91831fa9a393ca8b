import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from './builder.js';
import { noRow } from './no-row.js';
import { db } from '../platform/db.js';
import { rowIdOrNone, rowIdWhere } from '../platform/ids.js';
import { byFormatOrder, downloadPath } from '../resolvers/topics/artifacts.js';
import type { TopicGenerationEvent as TopicGenerationEventShape } from '../resolvers/topics/generation-state.js';
import { generateTopicReport } from '../resolvers/topics/generation.js';
import { parseSections } from '../resolvers/topics/sections.js';
import {
  listTopics,
  ownTopicWhere,
  planTopic,
  requireTopicForCaller,
  type PlanPayload as PlanPayloadShape,
} from '../resolvers/topics/topics.js';
import {
  artifactVisibleTo,
  isTemplateVisibleTo,
  isTopicVisibleTo,
  taskVisibleTo,
  topicVisibleTo,
} from '../resolvers/auth/visibility.js';
import type { PlanSection as PlanSectionShape } from '../reports/planner/types.js';
import { Task } from './tasks.js';
import { Template } from './templates.js';

const TopicStatus = builder.enumType('TopicStatus', {
  values: ['PLANNED', 'GENERATING', 'COMPLETED', 'FAILED'] as const,
  description:
    'PLANNED after planTopic; GENERATING while its report is written; then COMPLETED or FAILED.',
});

const PlanSection = builder.objectRef<PlanSectionShape>('PlanSection').implement({
  fields: (t) => ({
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    order: t.exposeInt('order', { description: '1-based.' }),
  }),
});

interface ArtifactFileShape {
  artifactId: string;
  format: string;
  contentType: string;
  filename: string;
  bytes: number;
}

const ArtifactFile = builder.objectRef<ArtifactFileShape>('ArtifactFile').implement({
  fields: (t) => ({
    format: t.exposeString('format', { description: 'markdown, hwpx or docx.' }),
    url: t.string({
      description:
        "Relative to this API's origin. GET it with the owner's API key (Bearer or X-API-Key); anyone else gets 404.",
      resolve: (file) => downloadPath(file.artifactId, file.format),
    }),
    bytes: t.exposeInt('bytes'),
    contentType: t.exposeString('contentType'),
    filename: t.exposeString('filename', {
      description: 'The name the download is saved under (Content-Disposition).',
    }),
  }),
});

export const Artifact = builder.prismaNode('Artifact', {
  id: { field: 'id' },
  // node(id) sees only the caller's own artifacts, as topic(id) does.
  nullable: true,
  findUnique: (id, ctx) => ({ ...artifactVisibleTo(ctx.caller), ...rowIdWhere(id) }),
  description: 'A generated report: its Markdown, and every exported file.',
  fields: (t) => ({
    format: t.string({
      description: 'The format of `markdown` (always "markdown"); `downloads` has the others.',
      resolve: () => 'markdown',
    }),
    markdown: t.exposeString('markdown'),
    downloads: t.field({
      type: [ArtifactFile],
      select: {
        id: true,
        files: { select: { format: true, contentType: true, filename: true, bytes: true } },
      },
      resolve: (artifact) =>
        [...artifact.files]
          .sort(byFormatOrder)
          .map((file) => ({ ...file, artifactId: artifact.id })),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const Topic = builder.prismaNode('Topic', {
  id: { field: 'id' },
  // node(id) sees what topic(id) sees: another user's topic is null.
  nullable: true,
  findUnique: (id, ctx) => ownTopicWhere(id, ctx.caller),
  description: "A report request of the caller (seed 004): its plan, and its report's generation.",
  fields: (t) => ({
    topic: t.exposeString('topic'),
    template: t.field({
      type: Template,
      nullable: true,
      description: 'null when none, deleted, or made private by its owner since.',
      select: (_args, _ctx, nestedSelection) => ({ template: nestedSelection(true) }),
      resolve: (topic, _args, ctx) =>
        topic.template && isTemplateVisibleTo(topic.template, ctx.caller) ? topic.template : null,
    }),
    agent: t.relation('agent', { nullable: true }),
    plan: t.exposeString('plan', {
      nullable: true,
      description: 'Markdown: one `##` heading per section.',
    }),
    sections: t.field({
      type: [PlanSection],
      select: { sections: true },
      resolve: (topic) => parseSections(topic.sections),
    }),
    status: t.expose('status', { type: TopicStatus }),
    progressPercent: t.exposeInt('progressPercent'),
    currentStep: t.exposeString('currentStep', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    estimatedCompletion: t.expose('estimatedCompletion', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    artifact: t.field({
      type: Artifact,
      nullable: true,
      description: 'The latest report (a failed regeneration keeps the previous one).',
      select: (_args, _ctx, nestedSelection) => ({
        artifacts: nestedSelection({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1 }),
      }),
      resolve: (topic) => topic.artifacts[0] ?? null,
    }),
    task: t.prismaField({
      type: Task,
      nullable: true,
      description: 'The task of the latest generation.',
      select: { taskId: true },
      resolve: (query, topic, _args, ctx) =>
        topic.taskId
          ? db().task.findFirst({
              ...query,
              where: { id: topic.taskId, ...taskVisibleTo(ctx.caller) },
            })
          : noRow(query),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

// Task.topic: the caller's own topic only (an admin sees every task, not every topic).
builder.prismaObjectFields(Task, (t) => ({
  topic: t.field({
    type: Topic,
    nullable: true,
    select: (_args, _ctx, nestedSelection) => ({ topic: nestedSelection(true) }),
    resolve: (task, _args, ctx) =>
      task.topic && isTopicVisibleTo(task.topic, ctx.caller) ? task.topic : null,
  }),
}));

const TopicConnection = builder.connectionObject(
  {
    type: Topic,
    name: 'TopicConnection',
    fields: (t) => ({
      totalCount: t.int({
        resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
      }),
    }),
  },
  { name: 'TopicEdge' },
);

const PlanTopicInput = builder.inputType('PlanTopicInput', {
  fields: (t) => ({
    topic: t.string({
      required: true,
      description: '1-200 characters, trimmed (inner runs of whitespace become one space).',
    }),
    templateId: t.id({
      description:
        'A template the caller may see; its promptSystem guides the plan. None: a default outline.',
    }),
    agentId: t.id({
      description:
        'The agent whose knowledge (taxonomy and documents) the plan and the report draw on.',
    }),
  }),
});

const PlanPayload = builder.objectRef<PlanPayloadShape>('PlanPayload').implement({
  fields: (t) => ({
    topic: t.prismaField({
      type: Topic,
      resolve: (query, payload, _args, ctx) =>
        db().topic.findFirstOrThrow({
          ...query,
          where: { ...topicVisibleTo(ctx.caller), id: payload.topicId },
        }),
    }),
    plan: t.exposeString('plan'),
    sections: t.field({ type: [PlanSection], resolve: (payload) => payload.sections }),
    estimatedSectionsCount: t.int({ resolve: (payload) => payload.sections.length }),
    planner: t.exposeString('planner', {
      description: 'Who made the plan: local, openai or anthropic.',
    }),
    fellBack: t.exposeBoolean('fellBack', {
      description:
        'true when the configured LLM planner missed the plan budget (LLM_PLAN_BUDGET_MS, 2 s by default) or failed, and the local planner answered instead.',
    }),
  }),
});

const GenerateTopicReportInput = builder.inputType('GenerateTopicReportInput', {
  fields: (t) => ({
    topicId: t.id({ required: true }),
    plan: t.string({
      required: true,
      description:
        'Required. An edited plan replaces the stored one; its `##` headings become the sections.',
    }),
  }),
});

const TopicGenerationEvent = builder
  .objectRef<TopicGenerationEventShape>('TopicGenerationEvent')
  .implement({
    fields: (t) => ({
      event: t.exposeString('event', {
        description: 'status_update while generating; completion (completed or failed) last.',
      }),
      status: t.expose('status', { type: TopicStatus }),
      progressPercent: t.exposeInt('progressPercent'),
      currentStep: t.exposeString('currentStep', { nullable: true }),
      artifact: t.prismaField({
        type: Artifact,
        nullable: true,
        description: 'The report, on a completed completion.',
        resolve: (query, event) =>
          event.status === 'COMPLETED'
            ? db().artifact.findFirst({
                ...query,
                where: { topicId: event.topicId },
                orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
              })
            : noRow(query),
      }),
      errorMessage: t.exposeString('errorMessage', { nullable: true }),
      topic: t.prismaField({
        type: Topic,
        resolve: (query, event, _args, ctx) =>
          db().topic.findFirstOrThrow({
            ...query,
            where: { ...topicVisibleTo(ctx.caller), id: event.topicId },
          }),
      }),
    }),
  });

builder.queryField('topic', (t) =>
  t.prismaField({
    type: Topic,
    nullable: true,
    description:
      "null for an unknown id and for another user's topic. Polling its status is cheap (seed 004 /status).",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => {
      return db().topic.findUnique({
        ...query,
        where: ownTopicWhere(rowIdOrNone('Topic', id), ctx.caller),
      });
    },
  }),
);

builder.queryField('topics', (t) =>
  t.field({
    type: TopicConnection,
    description: "The caller's own topics, newest first.",
    authScopes: { read: true },
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (_root, args, ctx, info) =>
      listTopics(
        ctx.caller,
        args,
        queryFromInfo({ context: ctx, info, typeName: 'Topic', path: ['edges', 'node'] }),
      ) as never,
  }),
);

builder.mutationField('planTopic', (t) =>
  t.field({
    type: PlanPayload,
    description:
      'seed 004 /plan: a plan (Markdown) and ordered sections, stored as a PLANNED topic. At most 10 per minute per user by default (RATE_LIMITED with extensions.retryAfter in seconds).',
    authScopes: { write: true },
    args: { input: t.arg({ type: PlanTopicInput, required: true }) },
    resolve: (_root, { input }, ctx) => planTopic(input, ctx.caller, ctx.topicSettings),
  }),
);

builder.mutationField('generateTopicReport', (t) =>
  t.prismaField({
    type: Topic,
    description:
      'seed 004 /generate: returns at once, GENERATING with its task; CONFLICT while a generation of the topic runs.',
    authScopes: { write: true },
    args: { input: t.arg({ type: GenerateTopicReportInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { topicId } = await generateTopicReport(input, ctx.caller, ctx.pubsub);
      return db().topic.findUniqueOrThrow({ ...query, where: { id: topicId } });
    },
  }),
);

builder.subscriptionField('topicGeneration', (t) =>
  t.field({
    type: TopicGenerationEvent,
    description:
      'seed 004 /status/stream: the current state first, status updates while generating, then one completion event; then the stream ends.',
    authScopes: { read: true },
    args: { topicId: t.arg.id({ required: true }) },
    subscribe: async (_root, { topicId }, ctx) => {
      const topic = await requireTopicForCaller(topicId, ctx.caller);
      return ctx.feeds.topics.follow(topic.id);
    },
    resolve: (event) => event,
  }),
);

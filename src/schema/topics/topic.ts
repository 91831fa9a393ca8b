// Topics: the Topic type with its plan and generation state, and the caller's
// topics to read. Planning is in plan.ts, generating in generation.ts.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../builder.js';
import { noRow } from '../no-row.js';
import { db } from '../../platform/db.js';
import {
  parseSections,
  type PlanSection as PlanSectionShape,
} from '../../services/topics/sections.js';
import { listTopics, ownTopicWhere } from '../../services/topics/topics.js';
import {
  isTeamRowVisibleTo,
  isTemplateVisibleTo,
  taskVisibleTo,
} from '../../services/auth/visibility.js';
import { Agent } from '../agents.js';
import { Task } from '../tasks.js';
import { Template } from '../templates/template.js';
import { rowIdOrNone } from '../ids.js';
import { Artifact } from './artifact.js';
import { listTopicArtifacts } from '../../services/topics/artifact-history.js';

const ArtifactConnection = builder.connectionObject(
  {
    type: Artifact,
    name: 'ArtifactConnection',
    fields: (t) => ({
      totalCount: t.int({
        resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
      }),
    }),
  },
  { name: 'ArtifactEdge' },
);

export const TopicStatus = builder.enumType('TopicStatus', {
  values: ['PLANNED', 'GENERATING', 'COMPLETED', 'FAILED'] as const,
  description:
    'PLANNED after planTopic; GENERATING while its report is written; then COMPLETED or FAILED.',
});

export const PlanSection = builder.objectRef<PlanSectionShape>('PlanSection').implement({
  fields: (t) => ({
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    order: t.exposeInt('order', { description: '1-based.' }),
  }),
});

export const Topic = builder.prismaNode('Topic', {
  id: { field: 'id' },
  // node(id) sees what topic(id) sees: another team's topic is null.
  nullable: true,
  findUnique: (id, ctx) => ownTopicWhere(id, ctx.caller),
  description: "A report request of a team: its plan, and its report's generation.",
  fields: (t) => ({
    topic: t.exposeString('topic'),
    template: t.field({
      type: Template,
      nullable: true,
      description: 'null when none, deleted, or private to a team the caller is not in.',
      select: (_args, _ctx, nestedSelection) => ({ template: nestedSelection(true) }),
      resolve: (topic, _args, ctx) =>
        topic.template && isTemplateVisibleTo(topic.template, ctx.caller) ? topic.template : null,
    }),
    templateVersion: t.exposeInt('templateVersion', {
      nullable: true,
      description:
        'The template version the plan followed; null without a template, and for topics ' +
        'planned before versions were recorded.',
    }),
    agent: t.field({
      type: Agent,
      nullable: true,
      description: 'null when none, deleted, or of a team the caller is not in.',
      select: (_args, _ctx, nestedSelection) => ({ agent: nestedSelection(true) }),
      resolve: (topic, _args, ctx) =>
        topic.agent && isTeamRowVisibleTo(topic.agent, ctx.caller) ? topic.agent : null,
    }),
    plan: t.exposeString('plan', {
      nullable: true,
      description: 'Markdown: one `##` heading per section.',
    }),
    sections: t.field({
      type: [PlanSection],
      select: { sections: true },
      resolve: (topic) => parseSections(topic.sections),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

// The report's generation: its state, its latest report and the task writing it.
builder.prismaObjectFields(Topic, (t) => ({
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
  artifacts: t.field({
    type: ArtifactConnection,
    description:
      'Every kept report of this topic, one per generation, newest first (the first is ' +
      '`artifact`); the oldest beyond ARTIFACT_RETENTION_COUNT are deleted.',
    args: { first: t.arg.int(), after: t.arg.string() },
    select: { id: true },
    resolve: (topic, args, ctx, info) =>
      listTopicArtifacts(
        topic.id,
        args,
        queryFromInfo({ context: ctx, info, typeName: 'Artifact', path: ['edges', 'node'] }),
      ) as never,
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
            where: { AND: [{ id: topic.taskId }, taskVisibleTo(ctx.caller)] },
          })
        : noRow(query),
  }),
}));

// Task.topic: a topic of the caller's teams only.
builder.prismaObjectFields(Task, (t) => ({
  topic: t.field({
    type: Topic,
    nullable: true,
    select: (_args, _ctx, nestedSelection) => ({ topic: nestedSelection(true) }),
    resolve: (task, _args, ctx) =>
      task.topic && isTeamRowVisibleTo(task.topic, ctx.caller) ? task.topic : null,
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

builder.queryField('topic', (t) =>
  t.prismaField({
    type: Topic,
    nullable: true,
    description:
      "null for an unknown id and for another team's topic. Polling its status is cheap.",
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
    description: "The topics of the caller's teams, newest first.",
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

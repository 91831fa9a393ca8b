// Generating a topic's report and following it (/status/stream).
import { builder } from '../builder.js';
import { noRow } from '../no-row.js';
import { db } from '../../platform/db.js';
import { mapFeed } from '../../feeds/push-feed.js';
import {
  draftDeltas,
  type DraftView,
  type TopicGenerationEvent as TopicGenerationEventShape,
} from '../../services/topics/generation-state.js';
import { generateTopicReport } from '../../services/topics/generation.js';
import { requireTopicForCaller } from '../../services/topics/topics.js';
import { topicVisibleTo } from '../../services/auth/visibility.js';
import { optionalRowId, rowIdOrNone } from '../ids.js';
import { TaskPriority } from '../tasks.js';
import { WEBHOOK_ENDPOINT_HELP, WEBHOOK_URL_HELP } from '../webhooks/help.js';
import { Artifact } from './artifact.js';
import { Topic, TopicStatus } from './topic.js';

const GenerateTopicReportInput = builder.inputType('GenerateTopicReportInput', {
  fields: (t) => ({
    topicId: t.id({ required: true }),
    plan: t.string({
      required: true,
      description:
        'Required. An edited plan replaces the stored one; its `##` headings become the sections.',
    }),
    priority: t.field({ type: TaskPriority, defaultValue: 'MEDIUM' }),
    idempotencyKey: t.string({
      description:
        'At most 200 characters, trimmed; blank is none. The same key (per user, 24 h) starts ' +
        'no other generation: it answers with the topic as it is now (`task` is its latest ' +
        'generation, which is the one the key started unless another request generated since). ' +
        'Used for another topic it is a CONFLICT (reason IDEMPOTENCY_KEY_USED).',
    }),
    webhookUrl: t.string({ description: WEBHOOK_URL_HELP }),
    webhookEndpointId: t.id({ description: WEBHOOK_ENDPOINT_HELP }),
  }),
});

const TopicSectionDraft = builder.objectRef<DraftView>('TopicSectionDraft').implement({
  description:
    "The section being written: its text so far (all of it on a stream's first event, so a " +
    'reconnect starts with it) and what is new since the last event (at most one event per ' +
    '50 ms per section).',
  fields: (t) => ({
    order: t.exposeInt('order', { description: "The section's 1-based order in the plan." }),
    text: t.exposeString('text', { description: 'The text so far.' }),
    delta: t.exposeString('delta', {
      description: 'Appended since the last event of this stream.',
    }),
    restarted: t.exposeBoolean('restarted', {
      description:
        'The text does not continue the last one: the stream broke and the section restarted ' +
        'on another deployment (appears once in the report).',
    }),
  }),
});

const TopicGenerationEvent = builder
  .objectRef<TopicGenerationEventShape & { draftView?: DraftView | null }>('TopicGenerationEvent')
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
      section: t.field({
        type: TopicSectionDraft,
        nullable: true,
        description: 'While GENERATING: the section being written, streamed as its text arrives.',
        resolve: (event) => event.draftView ?? null,
      }),
      topic: t.prismaField({
        type: Topic,
        resolve: (query, event, _args, ctx) =>
          db().topic.findFirstOrThrow({
            ...query,
            where: { AND: [{ id: event.topicId }, topicVisibleTo(ctx.caller)] },
          }),
      }),
    }),
  });

builder.mutationField('generateTopicReport', (t) =>
  t.prismaField({
    type: Topic,
    description:
      'Returns at once, GENERATING with its task; CONFLICT while a generation of the topic runs.',
    authScopes: { write: true },
    args: { input: t.arg({ type: GenerateTopicReportInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { topicId } = await generateTopicReport(
        {
          ...input,
          topicId: rowIdOrNone('Topic', input.topicId),
          webhookEndpointId: optionalRowId('WebhookEndpoint', input.webhookEndpointId),
        },
        ctx.caller,
        ctx,
      );
      return db().topic.findUniqueOrThrow({ ...query, where: { id: topicId } });
    },
  }),
);

builder.subscriptionField('topicGeneration', (t) =>
  t.field({
    type: TopicGenerationEvent,
    description:
      'The current state first, status updates while generating, then one completion event; then the stream ends.',
    authScopes: { read: true },
    args: { topicId: t.arg.id({ required: true }) },
    subscribe: async (_root, { topicId }, ctx) => {
      const topic = await requireTopicForCaller(rowIdOrNone('Topic', topicId), ctx.caller);
      return mapFeed(ctx.feeds.topics.follow(topic.id), draftDeltas());
    },
    resolve: (event) => event,
  }),
);

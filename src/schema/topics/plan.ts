// planTopic: a plan and its sections, stored as a PLANNED topic.
import { builder } from '../builder.js';
import { db } from '../../platform/db.js';
import { planTopic, type PlanPayload as PlanPayloadShape } from '../../services/topics/topics.js';
import { topicVisibleTo } from '../../services/auth/visibility.js';
import { optionalRowId } from '../ids.js';
import { PlanSection, Topic } from './topic.js';

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
    templateVersion: t.int({
      description:
        'A recorded version of the template to follow (NOT_FOUND when none); default its ' +
        'current version. Needs templateId.',
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
          where: { AND: [{ id: payload.topicId }, topicVisibleTo(ctx.caller)] },
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
        'true when the configured LLM planner missed the plan budget (LLM_PLAN_BUDGET_MS, 2 ' +
        's by default) or failed, and the local planner answered instead.',
    }),
  }),
});

builder.mutationField('planTopic', (t) =>
  t.field({
    type: PlanPayload,
    description:
      'A plan (Markdown) and ordered sections, stored as a PLANNED topic. At most 10 per ' +
      'minute per user by default (RATE_LIMITED with extensions.retryAfter in seconds).',
    authScopes: { write: true },
    args: { input: t.arg({ type: PlanTopicInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      planTopic(
        {
          topic: input.topic,
          templateId: optionalRowId('Template', input.templateId),
          templateVersion: input.templateVersion,
          agentId: optionalRowId('Agent', input.agentId),
        },
        ctx.caller,
        ctx,
      ),
  }),
);

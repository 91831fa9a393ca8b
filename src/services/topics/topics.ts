// Topics: plan a topic (fast, rate-limited) into the caller's team, and
// read the topics of the caller's teams. Another team's topic does not exist for the caller:
// NOT_FOUND, or null. Reports are generated in generation.ts.
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import { displayTextProblem } from '../../platform/display-text.js';
import { BadInputError, badUserInput, notFound, unlessAbandoned } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import { logger } from '../../platform/logger.js';
import {
  connectionFromRows,
  newestFirstAfter,
  newestFirstCursor,
  pageSize,
} from '../../platform/pagination.js';
import {
  languageOf,
  makePlan,
  type PlanContext,
  type PlanOutcome,
} from '../../reports/planner/index.js';
import type { Caller } from '../auth/caller.js';
import { agentVisibleTo, topicVisibleTo } from '../auth/visibility.js';
import { requireVisibleTemplate } from '../templates/templates.js';
import { requireTemplateVersion } from '../templates/versions.js';
import { agentKnowledge } from './knowledge.js';
import type { LlmGateway } from '../../llm/gateway.js';
import type { TopicSettings } from './settings.js';
import { announceChanges } from '../../platform/changes.js';
import { readableTeamIds } from '../auth/permissions.js';

export const TOPIC_LIMITS = { topic: 200, plan: 50_000 } as const;

type Who = Pick<Caller, 'isOperator' | 'roles'>;

/** The unique `where` of a row id restricted to the topics the caller sees (for node(id)). */
export function ownTopicWhere(rowId: string, caller: Who): Prisma.TopicWhereUniqueInput {
  return { ...rowIdWhere(rowId), AND: [topicVisibleTo(caller)] };
}

export async function findTopicForCaller(topicId: string, caller: Who) {
  return (await db().topic.findFirst({ where: ownTopicWhere(topicId, caller) })) ?? undefined;
}

export async function requireTopicForCaller(topicId: string, caller: Who) {
  const topic = await findTopicForCaller(topicId, caller);
  if (!topic) throw notFound('Topic');
  return topic;
}

/** Newest first, keyset-paginated on (createdAt, id) behind topics(teamId, createdAt desc, id desc). */
export async function listTopics(
  caller: Caller,
  args: { first?: number | null; after?: string | null },
  query: { include?: Prisma.TopicInclude; select?: Prisma.TopicSelect } = {},
) {
  const limit = pageSize(args.first);
  const after = newestFirstAfter(args.after);
  const where = topicVisibleTo(caller);
  const [rows, totalCount] = await Promise.all([
    db().topic.findMany({
      ...query,
      where: after ? { AND: [where, after] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().topic.count({ where }),
  ]);
  return {
    ...connectionFromRows(rows, limit, args.after, newestFirstCursor),
    totalCount,
  };
}

export interface PlanTopicInput {
  topic: string;
  /** Row ids. */
  templateId?: string | null;
  /** A recorded version of the template to follow; default its current version. */
  templateVersion?: number | null;
  agentId?: string | null;
}

export interface PlanPayload extends PlanOutcome {
  topicId: string;
}

function validTopic(text: string): string {
  const topic = text.replace(/\s+/g, ' ').trim();
  const length = [...topic].length;
  if (length < 1 || length > TOPIC_LIMITS.topic)
    throw new BadInputError(
      `topic must be 1-${TOPIC_LIMITS.topic} characters`,
      { field: 'topic' },
      'input.topic',
    );
  const problem = displayTextProblem(topic);
  if (problem) throw new BadInputError(`topic ${problem}`, { field: 'topic' }, 'input.topic');
  return topic;
}

/** The template and the version of it the plan follows (the current one unless pinned). */
async function templateToFollow(input: PlanTopicInput, caller: Caller) {
  if (!input.templateId) {
    if (input.templateVersion != null)
      throw badUserInput('templateVersion needs templateId', { field: 'templateVersion' });
    return null;
  }
  const template = await requireVisibleTemplate(input.templateId, caller);
  const followed =
    input.templateVersion == null
      ? template
      : await requireTemplateVersion(template.id, input.templateVersion, readableTeamIds(caller));
  const { version, promptSystem } = followed;
  return { id: template.id, name: template.name, version, promptSystem };
}

async function requireAgent(agentId: string, caller: Who) {
  const agent = await db().agent.findFirst({
    where: { AND: [rowIdWhere(agentId), agentVisibleTo(caller)] },
    select: { id: true, name: true },
  });
  if (!agent) throw notFound('Agent');
  return agent;
}

/** A plan and ordered sections, stored as a PLANNED topic of the caller's team. */
export async function planTopic(
  input: PlanTopicInput,
  caller: Caller,
  {
    topicSettings: settings,
    llm,
    signal,
  }: { topicSettings: TopicSettings; llm: Pick<LlmGateway, 'planner'>; signal?: AbortSignal },
): Promise<PlanPayload> {
  const topic = validTopic(input.topic);
  // At most 10 plans per minute per user by default (429), counted before any work.
  await settings.planLimiter.consume(caller.userId, 'plans');
  const [template, agent] = await Promise.all([
    templateToFollow(input, caller),
    input.agentId ? requireAgent(input.agentId, caller) : null,
  ]);
  const context: PlanContext = {
    topic,
    language: languageOf(topic),
    template: template && { name: template.name, promptSystem: template.promptSystem },
    agent: agent && (await agentKnowledge(agent, topic, readableTeamIds(caller) ?? null)),
  };
  // The topic's id before its row: the plan's LLM calls are metered against it (llmCalls topicId).
  const topicId = randomUUID();
  const outcome = await unlessAbandoned(signal, () =>
    makePlan(context, {
      chat: llm.planner,
      budgetMs: settings.planBudgetMs,
      call: { teamId: caller.teamId, apiKeyId: caller.apiKeyId, topicId },
      signal,
      onFallback: (planner, reason) =>
        logger.warn({ planner, reason }, 'LLM planner fell back to the local planner'),
    }),
  );
  const row = await db().topic.create({
    data: {
      id: topicId,
      teamId: caller.teamId,
      ownerId: caller.userId,
      topic,
      templateId: template?.id ?? null,
      templateVersion: template?.version ?? null,
      agentId: agent?.id ?? null,
      plan: outcome.plan,
      sections: outcome.sections as unknown as Prisma.InputJsonValue,
      status: 'PLANNED',
    },
    select: { id: true },
  });
  await announceChanges({ kind: 'topic.created' });
  return { ...outcome, topicId: row.id };
}

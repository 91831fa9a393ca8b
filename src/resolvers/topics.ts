// Topics and reports (seed 004, SPEC C6): plan a topic (fast, rate-limited), generate its
// report in the background (one generation at a time per topic), read the caller's own
// topics. Another user's topic does not exist for the caller: NOT_FOUND, or null.
import { db } from '../db.js';
import { badUserInput, conflict, notFound } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { languageOf, makePlan, sectionsFromPlan, type PlanContext, type PlanOutcome, type PlanSection } from '../reports/planner/index.js';
import { insertTask } from '../workers/sql/enqueue.js';
import { selectRecentDurationMs } from '../workers/sql/queue-stats.js';
import { taskDefinition } from '../workers/tasks/index.js';
import type { Caller } from './auth.js';
import { parseGlobalId } from './ids.js';
import { connectionFromRows, decodeCursor, pageSize } from './pagination.js';
import { agentKnowledge } from './topic-knowledge.js';
import { publishTopicUpdated, reconcileTopic } from './topic-progress.js';
import { parseSections } from './topic-sections.js';
import { topicSettings } from './topic-settings.js';
import { isUuid, requireVisibleTemplate } from './templates.js';

export const TOPIC_LIMITS = { topic: 200, plan: 50_000 } as const;
export const REPORT_GENERATION = 'report_generation';

/** Topics are private to their owner, admins included (seed 004: no cross-user reads). */
export const ownedBy = (caller: Pick<Caller, 'userId'>) => ({ ownerId: caller.userId }) satisfies Prisma.TopicWhereInput;

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The unique `where` of a row id restricted to the caller's topics (for node(id)). */
export function ownTopicWhere(rowId: string, caller: Pick<Caller, 'userId'>): Prisma.TopicWhereUniqueInput {
  return { id: isUuid(rowId) ? rowId : NIL_UUID, ...ownedBy(caller) };
}

export async function findTopicForCaller(globalId: string, caller: Pick<Caller, 'userId'>) {
  const id = parseGlobalId('Topic', globalId);
  return (id && (await db().topic.findFirst({ where: { id, ...ownedBy(caller) } }))) || undefined;
}

export async function requireTopicForCaller(globalId: string, caller: Pick<Caller, 'userId'>) {
  const topic = await findTopicForCaller(globalId, caller);
  if (!topic) throw notFound('Topic');
  return topic;
}

/** Newest first, keyset-paginated on (createdAt, id) behind topics(ownerId, createdAt desc, id desc). */
export async function listTopics(caller: Caller, args: { first?: number | null; after?: string | null }, query: { include?: Prisma.TopicInclude; select?: Prisma.TopicSelect } = {}) {
  const limit = pageSize(args.first);
  const cursor = decodeCursor<[string, string]>(args.after, 2);
  if (cursor && (!isUuid(cursor[1]) || Number.isNaN(Date.parse(cursor[0])))) throw badUserInput('after: not a cursor of this connection');
  const where = ownedBy(caller);
  const after: Prisma.TopicWhereInput | undefined = cursor
    ? { OR: [{ createdAt: { lt: new Date(cursor[0]) } }, { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } }] }
    : undefined;
  const [rows, totalCount] = await Promise.all([
    db().topic.findMany({
      ...query,
      where: after ? { AND: [where, after] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    }),
    db().topic.count({ where }),
  ]);
  return { ...connectionFromRows(rows, limit, args.after, (row) => [row.createdAt.toISOString(), row.id]), totalCount };
}

export interface PlanTopicInput {
  topic: string;
  templateId?: string | null;
  agentId?: string | null;
}

export interface PlanPayload extends PlanOutcome {
  topicId: string;
}

function validTopic(text: string): string {
  const topic = text.replace(/\s+/g, ' ').trim();
  const length = [...topic].length;
  if (length < 1 || length > TOPIC_LIMITS.topic) throw badUserInput(`topic must be 1-${TOPIC_LIMITS.topic} characters`, { field: 'topic' });
  return topic;
}

async function requireAgent(globalId: string) {
  const id = parseGlobalId('Agent', globalId);
  const agent = id ? await db().agent.findUnique({ where: { id }, select: { id: true, name: true } }) : null;
  if (!agent) throw notFound('Agent');
  return agent;
}

/** seed 004 POST /plan: a plan and ordered sections, stored as a PLANNED topic of the caller. */
export async function planTopic(input: PlanTopicInput, caller: Caller): Promise<PlanPayload> {
  const topic = validTopic(input.topic);
  const settings = await topicSettings();
  // seed 004: at most 10 plans per minute per user (429) — counted before any work.
  await settings.planLimiter.consume(caller.userId, 'plans');
  const [template, agent] = await Promise.all([
    input.templateId ? requireVisibleTemplate(input.templateId, caller) : null,
    input.agentId ? requireAgent(input.agentId) : null,
  ]);
  const context: PlanContext = {
    topic,
    language: languageOf(topic),
    template: template && { name: template.name, promptSystem: template.promptSystem },
    agent: agent && (await agentKnowledge(agent, topic)),
  };
  const outcome = await makePlan(context, { chat: settings.planner, budgetMs: settings.planBudgetMs });
  const row = await db().topic.create({
    data: {
      ownerId: caller.userId,
      topic,
      templateId: template?.id ?? null,
      agentId: agent?.id ?? null,
      plan: outcome.plan,
      sections: outcome.sections as unknown as Prisma.InputJsonValue,
      status: 'PLANNED',
    },
    select: { id: true },
  });
  return { ...outcome, topicId: row.id };
}

export interface GenerateTopicReportInput {
  topicId: string;
  plan: string;
}

/** A first guess until the task reports progress: recent report run times, else ~2 s per section. */
async function estimateDurationMs(sections: number): Promise<number> {
  return (await selectRecentDurationMs(db(), REPORT_GENERATION)) ?? sections * 2_000;
}

/**
 * seed 004 POST /generate: returns at once with the topic GENERATING and its task; a second
 * request while one is generating is a CONFLICT. The claim of the topic (a conditional
 * UPDATE … WHERE status <> 'GENERATING') and the enqueue commit together, so two racing
 * requests cannot both start, and a topic is never GENERATING without its task.
 */
export async function generateTopicReport(input: GenerateTopicReportInput, caller: Caller, pubsub: PubSub) {
  const existing = await requireTopicForCaller(input.topicId, caller);
  const plan = input.plan.trim();
  if (!plan) throw badUserInput('plan is required (seed 004: generation follows the approved plan)', { field: 'plan' });
  if (plan.length > TOPIC_LIMITS.plan) throw badUserInput(`plan must be at most ${TOPIC_LIMITS.plan} characters`, { field: 'plan' });
  // An edited plan replaces the stored one; its `##` headings are the sections then.
  const sections: PlanSection[] = plan === existing.plan?.trim() ? parseSections(existing.sections) : sectionsFromPlan(plan);
  if (sections.length === 0) throw badUserInput('plan must have at least one "## " section heading', { field: 'plan' });
  // A topic left GENERATING by a task that ended without saying so is failed first.
  if (existing.status === 'GENERATING' && !(await reconcileTopic(existing.id, pubsub))) {
    throw conflict('Generation already in progress for this topic');
  }

  const definition = taskDefinition(REPORT_GENERATION);
  const estimatedCompletion = new Date(Date.now() + (await estimateDurationMs(sections.length)));
  const task = await db().$transaction(async (tx) => {
    const { task: row } = await insertTask(tx, {
      type: REPORT_GENERATION,
      priority: 'MEDIUM',
      payload: { topicId: existing.id },
      maxAttempts: definition.maxAttempts,
      timeoutSeconds: definition.timeoutSeconds,
      ownerId: caller.userId,
      topicId: existing.id,
    });
    const claimed = await tx.topic.updateMany({
      where: { id: existing.id, ...ownedBy(caller), status: { not: 'GENERATING' } },
      data: {
        status: 'GENERATING',
        plan,
        sections: sections as unknown as Prisma.InputJsonValue,
        taskId: row.id,
        progressPercent: 0,
        currentStep: 'queued',
        startedAt: new Date(),
        estimatedCompletion,
        completedAt: null,
        errorMessage: null,
      },
    });
    // Rolls the task back with it.
    if (claimed.count === 0) throw conflict('Generation already in progress for this topic');
    return row;
  });
  // After commit, as enqueueTask does: the task's first event and a wake-up for workers.
  await pubsub.publish('taskEvents', task.id, { taskId: task.id, sequence: task.lastSequence });
  await pubsub.publish('taskReady', 'queue', { type: task.type });
  await publishTopicUpdated(pubsub, existing.id);
  logger.debug({ topicId: existing.id, taskId: task.id }, 'report generation queued');
  return { topicId: existing.id, taskId: task.id };
}

// Generating a topic's report: returns at once with the topic
// GENERATING and its task; a second request while one is generating is a CONFLICT.
import type { Prisma } from '../../generated/prisma/client.js';
import type { TaskPriority } from '../../generated/prisma/enums.js';
import { db, inTransaction } from '../../platform/db.js';
import { BadInputError, conflict } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import { sectionsFromPlan, type PlanSection } from '../../reports/planner/index.js';
import { enqueue } from '../../queue/enqueue.js';
import { idempotencyKeyOf, taskOfIdempotencyKey } from '../../queue/idempotency-keys.js';
import { selectRecentDurationMs } from '../../queue/recent-duration.js';
import type { Caller } from '../auth/caller.js';
import type { LlmGateway } from '../../llm/gateway.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { QueueMetrics } from '../../queue/queue-metrics.js';
import { requireWrite } from '../auth/permissions.js';
import { topicVisibleTo } from '../auth/visibility.js';
import { publishTopicUpdated, reconcileTopic } from './progress.js';
import { reportGeneration } from './tasks/report-generation.js';
import { requireUsableRoute } from '../llm/budget-check.js';
import { parseSections } from './sections.js';
import type { WebhookSettings, WebhookTargetInput } from '../webhooks/delivery.js';
import { checkWebhookTargets } from '../webhooks/targets.js';
import { requireTopicForCaller, TOPIC_LIMITS } from './topics.js';

/** The CONFLICT of a second generation while one runs (not a reused idempotency key's). */
const IN_PROGRESS = { reason: 'GENERATION_IN_PROGRESS' };

export interface GenerateTopicReportInput extends WebhookTargetInput {
  /** A row id. */
  topicId: string;
  plan: string;
  priority?: TaskPriority | null;
  idempotencyKey?: string | null;
}

/** A first guess until the task reports progress: recent report run times, else ~2 s per section. */
async function estimateDurationMs(sections: number): Promise<number> {
  return (await selectRecentDurationMs(db(), reportGeneration.name)) ?? sections * 2_000;
}

/** The plan to generate: an edited plan replaces the stored one, and its `##` headings are the sections then. */
function approvedPlan(
  input: GenerateTopicReportInput,
  stored: { plan: string | null; sections: unknown },
) {
  const plan = input.plan.trim();
  if (!plan)
    throw new BadInputError(
      'plan is required (generation follows the approved plan)',
      { field: 'plan' },
      'input.plan',
    );
  if (plan.length > TOPIC_LIMITS.plan)
    throw new BadInputError(
      `plan must be at most ${TOPIC_LIMITS.plan} characters`,
      { field: 'plan' },
      'input.plan',
    );
  const sections: PlanSection[] =
    plan === stored.plan?.trim() ? parseSections(stored.sections) : sectionsFromPlan(plan);
  if (sections.length === 0)
    throw new BadInputError(
      'plan must have at least one "## " section heading',
      { field: 'plan' },
      'input.plan',
    );
  return { plan, sections };
}

/**
 * The claim of the topic (a conditional UPDATE … WHERE status <> 'GENERATING') and the
 * enqueue commit together, so two racing requests cannot both start, and a topic is never
 * GENERATING without its task.
 */
export async function generateTopicReport(
  input: GenerateTopicReportInput,
  caller: Caller,
  {
    pubsub,
    metrics,
    llm,
    webhooks,
  }: {
    pubsub: PubSub;
    metrics: { queue: QueueMetrics };
    llm: LlmGateway;
    webhooks: Pick<WebhookSettings, 'allowPrivateTargets'>;
  },
) {
  const existing = await requireTopicForCaller(input.topicId, caller);
  requireWrite(caller, existing.teamId, 'Topic', true);
  const { plan, sections } = approvedPlan(input, existing);
  const idempotencyKey = idempotencyKeyOf(input.idempotencyKey);
  // A retried request: the generation its key started, whatever state it is in now.
  const earlier = idempotencyKey && (await taskOfIdempotencyKey(caller.userId, idempotencyKey));
  if (earlier) return sameTopicOrConflict(earlier, existing.id);
  const targets = await checkWebhookTargets(input, existing.teamId, caller, webhooks);
  await requireUsableRoute('WRITE', { teamId: existing.teamId, apiKeyId: caller.apiKeyId }, llm);
  // A topic left GENERATING by a task that ended without saying so is failed first.
  if (existing.status === 'GENERATING' && !(await reconcileTopic(existing.id, pubsub))) {
    throw conflict('Generation already in progress for this topic', IN_PROGRESS);
  }
  const estimatedCompletion = new Date(Date.now() + (await estimateDurationMs(sections.length)));
  const { task, created } = await inTransaction(async (tx) => {
    const enqueued = await enqueue(
      reportGeneration,
      {
        payload: { topicId: existing.id, apiKeyId: caller.apiKeyId, ...targets },
        priority: input.priority ?? 'MEDIUM',
        ownerId: caller.userId,
        // The topic's team: its members follow the report being written.
        teamId: existing.teamId,
        topicId: existing.id,
        idempotencyKey,
      },
      { pubsub, tx, metrics: metrics.queue },
    );
    // The same key raced in by a concurrent request: that request's generation stands.
    if (!enqueued.created) return enqueued;
    const claimed = await tx.client.topic.updateMany({
      where: { AND: [{ id: existing.id, status: { not: 'GENERATING' } }, topicVisibleTo(caller)] },
      data: {
        status: 'GENERATING',
        plan,
        sections: sections as unknown as Prisma.InputJsonValue,
        taskId: enqueued.task.id,
        progressPercent: 0,
        currentStep: 'queued',
        startedAt: new Date(),
        estimatedCompletion,
        completedAt: null,
        errorMessage: null,
      },
    });
    // Rolls the task back with it.
    if (claimed.count === 0)
      throw conflict('Generation already in progress for this topic', IN_PROGRESS);
    return enqueued;
  });
  if (!created) return sameTopicOrConflict(task, existing.id);
  await publishTopicUpdated(pubsub, existing.id);
  logger.debug({ topicId: existing.id, taskId: task.id }, 'report generation queued');
  return { topicId: existing.id, taskId: task.id };
}

/** An idempotency key names one request: reused for another topic (or task) it is a CONFLICT. */
function sameTopicOrConflict(
  earlier: { id: string; topicId: string | null; type: string },
  topicId: string,
) {
  if (earlier.type !== reportGeneration.name || earlier.topicId !== topicId)
    throw conflict('idempotencyKey was used for another request', {
      field: 'idempotencyKey',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
  return { topicId, taskId: earlier.id };
}

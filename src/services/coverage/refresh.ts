// Refreshing an agent's coverage: in the background by default (a PENDING task at once, as an
// HTTP 202 would), or computed now. The task type is coverage_refresh (tasks/refresh.ts).
import type { TaskPriority } from '../../generated/prisma/enums.js';
import { BadInputError, conflict, notFound, violatedForeignKey } from '../../platform/errors.js';
import { enqueue } from '../../queue/enqueue.js';
import { idempotencyKeyOf } from '../../queue/idempotency-keys.js';
import type { TaskRow } from '../../queue/task-row.js';
import { requireWritableAgent } from '../agents/agents.js';
import type { Caller } from '../auth/caller.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { QueueMetrics } from '../../queue/queue-metrics.js';
import { checkWebhookUrl, type WebhookSettings } from '../webhooks/delivery.js';
import { endpointOfTeam } from '../webhooks/endpoints.js';
import { computeAndRecordCoverage, type CoverageReport } from './coverage.js';
import { coverageRefresh } from './tasks/refresh.js';

export interface RefreshCoverageInput {
  /** A row id. */
  agentId: string;
  background?: boolean | null;
  priority?: TaskPriority | null;
  webhookUrl?: string | null;
  /** A row id: an endpoint of the caller's team the task's end goes to. */
  webhookEndpointId?: string | null;
  idempotencyKey?: string | null;
}

/**
 * Needs write in the agent's team (NOT_FOUND for an agent the caller does not see). The task
 * belongs to the caller's key's team, as what a key creates does: it carries the caller's
 * webhook URL and idempotency key.
 */
export async function refreshCoverage(
  input: RefreshCoverageInput,
  caller: Caller,
  deps: { pubsub: PubSub; webhooks: WebhookSettings; metrics: { queue: QueueMetrics } },
): Promise<{ task: TaskRow | null; coverage: CoverageReport | null }> {
  if (input.background === false) {
    const given = (['webhookUrl', 'webhookEndpointId', 'idempotencyKey'] as const).find(
      (field) => input[field],
    );
    if (given)
      throw new BadInputError(
        'webhookUrl, webhookEndpointId and idempotencyKey need background: true',
        { field: given },
        `input.${given}`,
      );
    const agent = await requireWritableAgent(input.agentId, caller);
    return {
      task: null,
      coverage: await computeAndRecordCoverage(agent.id, { pubsub: deps.pubsub }),
    };
  }
  // The agent is looked for before anything else: an idempotency key could otherwise answer
  // with the task it named before.
  const { id: agentId } = await requireWritableAgent(input.agentId, caller);
  const idempotencyKey = idempotencyKeyOf(input.idempotencyKey);
  const webhookUrl = input.webhookUrl
    ? await checkWebhookUrl(input.webhookUrl, deps.webhooks)
    : null;
  const webhookEndpointId = input.webhookEndpointId
    ? await endpointOfTeam(input.webhookEndpointId, caller.teamId, caller)
    : null;
  // An agent deleted since is found by the foreign key.
  const priority = input.priority ?? 'MEDIUM';
  const { task, created } = await enqueue(
    coverageRefresh,
    {
      // The endpoint rides in the payload: the task's end is sent there (task-events.ts).
      payload: webhookEndpointId ? { agentId, webhookEndpointId } : { agentId },
      priority,
      ownerId: caller.userId,
      teamId: caller.teamId,
      agentId,
      webhookUrl,
      idempotencyKey,
    },
    { pubsub: deps.pubsub, metrics: deps.metrics.queue },
  ).catch((error: unknown) => {
    if (violatedForeignKey(error) === 'tasks_agentId_fkey') throw notFound('Agent');
    throw error;
  });
  if (!created) sameRequestOrConflict(task, { agentId, priority, webhookUrl, webhookEndpointId });
  return { task, coverage: null };
}

/**
 * An idempotency key names one request (as Stripe's Idempotency-Key): the task it named
 * before answers only a request for the same refresh; for any other (another agent, priority,
 * webhook, or another kind of task) it is a CONFLICT, not a silent answer about other work.
 */
function sameRequestOrConflict(
  earlier: TaskRow,
  wanted: {
    agentId: string;
    priority: TaskPriority;
    webhookUrl: string | null;
    webhookEndpointId: string | null;
  },
): void {
  const endpoint = (earlier.payload as { webhookEndpointId?: string } | null)?.webhookEndpointId;
  if (
    earlier.type !== coverageRefresh.name ||
    earlier.agentId !== wanted.agentId ||
    earlier.priority !== wanted.priority ||
    earlier.webhookUrl !== wanted.webhookUrl ||
    (endpoint ?? null) !== wanted.webhookEndpointId
  )
    throw conflict('idempotencyKey was used for another request', {
      field: 'idempotencyKey',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
}

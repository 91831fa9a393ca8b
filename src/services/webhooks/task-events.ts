// A task's end as webhooks: task.completed, task.failed (also a timeout) and task.dead to the
// team's subscribed endpoints and the endpoint the task names (payload.webhookEndpointId),
// and, as before endpoints existed, the outcome to the task's own webhookUrl on every end
// (signed with WEBHOOK_SECRET).
import { publicId } from '../../platform/public-ids.js';
import type { ClaimedTaskRow } from '../../queue/task-row.js';
import { emitWebhookEvent, type EmitDeps } from './emit.js';
import type { WebhookEventType } from './event-types.js';
import type { TaskSubscribers } from './subscribers.js';
import { webhookDelivery } from './tasks/spec.js';

const EVENT_OF_STATUS: Partial<Record<string, WebhookEventType>> = {
  COMPLETED: 'task.completed',
  FAILED: 'task.failed',
  TIMEOUT: 'task.failed',
  DEAD: 'task.dead',
};

/** The outcome receivers get, with ids as clients know them. */
function outcomeOf(task: ClaimedTaskRow) {
  return {
    taskId: publicId('Task', task.id),
    agentId: task.agentId ? publicId('Agent', task.agentId) : null,
    topicId: task.topicId ? publicId('Topic', task.topicId) : null,
    status: task.status,
    result: task.result,
    error: task.error,
    completedAt: task.completedAt?.toISOString() ?? null,
  };
}

const namedEndpoint = (payload: unknown): string | null => {
  const id = (payload as { webhookEndpointId?: unknown } | null)?.webhookEndpointId;
  return typeof id === 'string' ? id : null;
};

/**
 * After a task ends: its messages, queued (never holding up the task). `subscribers` spares
 * the ends of teams without task endpoints a transaction each.
 */
export async function emitTaskEnded(
  task: ClaimedTaskRow,
  deps: Omit<EmitDeps, 'tx'> & { subscribers: TaskSubscribers },
): Promise<void> {
  if (task.type === webhookDelivery.name || !task.ownerId) return;
  const type = EVENT_OF_STATUS[task.status];
  const named = type ? namedEndpoint(task.payload) : null;
  const toEndpoints =
    type !== undefined &&
    (named !== null || (task.teamId !== null && (await deps.subscribers.any(task.teamId))));
  if (!toEndpoints && !task.webhookUrl) return;
  const outcome = outcomeOf(task);
  await emitWebhookEvent(
    {
      // A cancelled task's own URL still hears of it; no endpoint subscribes to cancellations.
      type: type ?? 'task.failed',
      teamId: task.teamId,
      ownerId: task.ownerId,
      data: { ...outcome, type: task.type },
    },
    {
      subscribed: toEndpoints,
      endpointId: named,
      url: task.webhookUrl,
      urlBody: outcome,
      taskId: task.id,
    },
    deps,
  );
}

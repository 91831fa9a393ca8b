// What the workflow services share: their dependencies, and idempotency keys (per user): the
// same key with the same input answers with the workflow it started; with other input it is a
// conflict (the key remembers a hash of what it was spent on).
import { createHash } from 'node:crypto';
import { db } from '../../platform/db.js';
import { conflict } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { isTeamRowVisibleTo } from '../auth/visibility.js';
import type { LlmGateway } from '../../llm/gateway.js';
import type { QueueMetrics } from '../../queue/queue-metrics.js';
import type { WebhookSettings } from '../webhooks/delivery.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { TopicSettings } from '../topics/settings.js';
import type { WorkflowSettings } from './settings.js';
import type { AdvanceDeps } from './progress.js';
import { badWorkflowInput } from './problems.js';

/** `metrics`: the process's counts (the step tasks a request dispatches); unset: not counted. */
export interface WorkflowDeps {
  pubsub: PubSub;
  llm: LlmGateway;
  topicSettings: TopicSettings;
  workflows: WorkflowSettings;
  metrics?: { queue: QueueMetrics };
  /** Checking the webhookUrl a run names (private targets outside production). */
  webhooks: Pick<WebhookSettings, 'allowPrivateTargets' | 'maxAttempts'>;
  /** The request's own (Context.signal): a plan stops once its client is gone. */
  signal?: AbortSignal;
}

export const advanceDepsOf = (deps: Pick<WorkflowDeps, 'pubsub' | 'metrics'>): AdvanceDeps => ({
  pubsub: deps.pubsub,
  queueMetrics: deps.metrics?.queue,
});

const IDEMPOTENCY_KEY_MAX = 200;

export function validIdempotencyKey(key: string | null | undefined): string | null {
  const trimmed = key?.trim() || null;
  if (trimmed && trimmed.length > IDEMPOTENCY_KEY_MAX)
    throw badWorkflowInput(
      'TOO_LONG',
      `idempotencyKey must be at most ${IDEMPOTENCY_KEY_MAX} characters`,
      { field: 'idempotencyKey' },
    );
  return trimmed;
}

/** What a key is spent on, as stored: a hash of the normalized input (fields in a fixed order). */
export function idempotencyHash(spentOn: unknown): string {
  return createHash('sha256').update(JSON.stringify(spentOn)).digest('hex');
}

const keyUsed = (message: string) => conflict(message, { reason: 'IDEMPOTENCY_KEY_USED' });

/**
 * The caller's workflow started with this key. Keys are unique per user: one the user spent
 * on a workflow this caller does not see (another team's, for a key of one team), or on other
 * input than `hash` says, is CONFLICT (IDEMPOTENCY_KEY_USED), not a replay.
 */
export async function workflowByKey(
  caller: Pick<Caller, 'userId' | 'isOperator' | 'roles'>,
  idempotencyKey: string,
  hash: string,
): Promise<string | undefined> {
  const row = await db().workflow.findFirst({
    where: { ownerId: caller.userId, idempotencyKey },
    select: { id: true, teamId: true, idempotencyHash: true },
  });
  if (row && !isTeamRowVisibleTo(row, caller))
    throw keyUsed('idempotencyKey was used for another workflow of yours: send another key');
  // A row from before hashes were kept replays whatever the input.
  if (row && row.idempotencyHash !== null && row.idempotencyHash !== hash)
    throw keyUsed('idempotencyKey was used with other input: send another key');
  return row?.id;
}

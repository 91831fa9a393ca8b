// What the workflow services share: their dependencies, and idempotency keys (per user): the
// same key answers with the workflow it started.
import { db } from '../../platform/db.js';
import type { ServiceDeps } from '../deps.js';
import type { AdvanceDeps } from './progress.js';
import { badWorkflowInput } from './problems.js';

/** `metrics`: the process's counts (the step tasks a request dispatches); unset: not counted. */
export type WorkflowDeps = Pick<ServiceDeps, 'pubsub' | 'topicSettings' | 'workflows'> &
  Partial<Pick<ServiceDeps, 'metrics'>>;

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

export async function workflowByKey(
  ownerId: string,
  idempotencyKey: string,
): Promise<string | undefined> {
  const row = await db().workflow.findFirst({
    where: { ownerId, idempotencyKey },
    select: { id: true },
  });
  return row?.id;
}

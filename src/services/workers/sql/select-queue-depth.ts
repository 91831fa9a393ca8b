// The queue's depth by priority and its oldest PENDING task's age, read off the claim order's
// partial index (tasks_claim_order_idx holds only PENDING rows): no scan of finished tasks.
import type { Queryable } from '../../../platform/db.js';
import type { TaskPriority } from '../../../generated/prisma/enums.js';

export interface QueueDepthRow {
  priority: TaskPriority;
  pending: number;
  oldestAgeSeconds: number;
}

export function selectQueueDepth(client: Queryable): Promise<QueueDepthRow[]> {
  return client.$queryRaw<QueueDepthRow[]>`
    SELECT priority, count(*)::int AS pending,
           extract(epoch FROM now() - min("createdAt"))::float8 AS "oldestAgeSeconds"
    FROM tasks WHERE status = 'PENDING'
    GROUP BY priority`;
}

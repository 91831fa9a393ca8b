// Takes a stalled workflow's row lock for its repair, inside the repair's transaction.
import type { Queryable } from '../../../platform/db.js';
import { REPLAN_ENDED } from './replan-ended.js';

/**
 * A stalled workflow locked for its repair (undefined: no longer running, or a commit holds
 * it), with whether its replan ended read again under the lock: a new replan or a retry may
 * have come between the scan and the repair.
 */
export async function lockStalledWorkflow(
  client: Queryable,
  workflowId: string,
): Promise<{ replanEnded: boolean } | undefined> {
  const rows = await client.$queryRaw<Array<{ replanEnded: boolean }>>`
    SELECT ${REPLAN_ENDED} AS "replanEnded" FROM workflows w
    WHERE w.id = ${workflowId}::uuid AND w.status = 'RUNNING' FOR UPDATE OF w SKIP LOCKED`;
  return rows[0];
}

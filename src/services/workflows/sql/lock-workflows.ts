// The workflows' rows locked (in id order, as every multi-workflow statement locks them) in a
// statement of their own, before a commit reads their steps. A statement reads the snapshot
// taken at its start: one that waited for a workflow's lock inside itself would read its steps
// and edges as they were before the holder committed (a replan's new tail invisible to it).
import { PREPARED, type Queryable } from '../../../platform/db.js';

export async function lockWorkflows(
  client: Queryable,
  workflowIds: readonly string[],
): Promise<void> {
  if (workflowIds.length === 0) return;
  await client.$queryRaw`${PREPARED}
    SELECT id FROM workflows WHERE id = ANY(${[...new Set(workflowIds)]}::uuid[]) ORDER BY id FOR UPDATE`;
}

/**
 * The workflows among these that no other transaction holds, locked (in id order) without
 * waiting for the others: their ids.
 */
export async function lockFreeWorkflows(
  client: Queryable,
  workflowIds: readonly string[],
): Promise<Set<string>> {
  if (workflowIds.length === 0) return new Set();
  const rows = await client.$queryRaw<Array<{ id: string }>>`${PREPARED}
    SELECT id FROM workflows WHERE id = ANY(${[...new Set(workflowIds)]}::uuid[])
    ORDER BY id FOR UPDATE SKIP LOCKED`;
  return new Set(rows.map((row) => row.id));
}

// Whether any of these workflows has an end not sent yet: asked after every step task's end,
// which almost never ends its workflow, so the claim's transaction is opened only when it does
// (the partial index workflows_end_unnotified_idx holds only such workflows).
import { PREPARED, type Queryable } from '../../../platform/db.js';

export async function hasUnnotifiedEnd(
  client: Queryable,
  ids: readonly string[],
): Promise<boolean> {
  const rows = await client.$queryRaw<Array<{ found: number }>>`${PREPARED}
    SELECT 1 AS found FROM workflows
    WHERE id = ANY(${ids as string[]}::uuid[]) AND "completedAt" IS NOT NULL
      AND "endNotifiedAt" IS DISTINCT FROM "completedAt"
    LIMIT 1`;
  return rows.length > 0;
}

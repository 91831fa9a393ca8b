// A worker's few changes and its claim in one statement, one commit: what a worker writes per
// task when tasks come one at a time (a wake-up's claim carries the ends that waited for it:
// src/workers/turns.ts). Two statements cost PostgreSQL a round trip and a commit more each,
// most of a task's cost at that pace (bench/README.md, "Queue"). Few changes only: a claim
// locks the rows it met that another claim had just taken until its commit (turn-statements.ts),
// so it must not wait for a large batch of changes. The changes' rows (RUNNING, this worker's)
// and the claim's (PENDING) are never the same rows.
import { PREPARED, type Queryable } from '../platform/db.js';
import { claimCtes, type Claim } from './claim.js';
import {
  changedTaskColumns,
  claimedTaskColumns,
  type ChangedColumns,
  type ClaimedTaskRow,
} from './task-row.js';
import {
  changeCtes,
  withChangeEvent,
  type Backoff,
  type TaskChange,
  type TaskChangeKind,
  type TaskChangeRow,
} from './write-changes.js';

/** Changes written together with a claim, at most: more go in a statement of their own. */
export const CHANGES_WITH_A_CLAIM = 8;

/** A row of the statement: a changed task's (part 0) or a claimed one's (part 1). */
type Row =
  | (ChangedColumns & {
      part: 0;
      kind: TaskChangeKind;
      eventMessage: string | null;
      startEventAt: Date | null;
    })
  | (ClaimedTaskRow & { part: 1 });

export async function writeChangesAndClaim(
  client: Queryable,
  workerId: string,
  changes: readonly TaskChange[],
  backoff: Backoff,
  claim: Claim,
): Promise<{ changed: TaskChangeRow[]; claimed: ClaimedTaskRow[] }> {
  const rows = await client.$queryRaw<Row[]>`${PREPARED}
    WITH ${changeCtes(workerId, changes, backoff)}, ${claimCtes(workerId, claim)}
    SELECT * FROM (
      SELECT 0 AS part, 0::bigint AS ord, ${changedTaskColumns('d')}, d.kind, d."eventMessage",
             d."startEventAt", NULL::float8 AS "queueWaitSeconds"
      FROM described d
      UNION ALL
      SELECT 1, row_number() OVER (ORDER BY c.priority, c."runAt", c."createdAt", c.id),
             ${claimedTaskColumns('c')}, NULL, NULL, NULL,
             greatest(extract(epoch FROM coalesce(c."startedAt", now()) - c."readyAt"), 0)::float8
      FROM claimed c
    ) r ORDER BY part, ord`;
  const changed: TaskChangeRow[] = [];
  const claimed: ClaimedTaskRow[] = [];
  for (const row of rows)
    if (row.part === 0) changed.push(withChangeEvent(row));
    else claimed.push(row);
  return { changed, claimed };
}

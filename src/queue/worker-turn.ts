// A busy worker's turn in one statement (one commit): the changes of its attempts (starts,
// progress, ends) and a claim of as many tasks as its local queue has room for. The changed
// rows are RUNNING and the claimed ones PENDING, so the two updates never touch the same row.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { claimCtes, selectClaimed, type Claim } from './claim.js';
import { changedColumnsAsTaskColumns, type TaskRow } from './task-row.js';
import {
  changeCtes,
  withChangeEvent,
  type Backoff,
  type TaskChange,
  type TaskChangeKind,
  type TaskChangeRow,
} from './write-changes.js';

type TurnRow = TaskRow & {
  turn: 'changed' | 'claimed';
  kind: TaskChangeKind | null;
  eventMessage: string | null;
};

export async function workerTurn(
  client: Queryable,
  workerId: string,
  changes: readonly TaskChange[],
  backoff: Backoff,
  claim: Claim,
): Promise<{ changed: TaskChangeRow[]; claimed: TaskRow[] }> {
  // Both halves of the UNION in taskColumns' shape: the changed rows' columns that no change
  // alters are NULL (the worker holds them from the claim), not sent and parsed again.
  const rows = await client.$queryRaw<TurnRow[]>`${PREPARED}
    WITH ${changeCtes(workerId, changes, backoff)},
         ${claimCtes(workerId, claim)}
    SELECT 'changed' AS turn, ${changedColumnsAsTaskColumns('c')}, c.kind, c."eventMessage",
      NULL::float8 AS "queueWaitSeconds"
    FROM described c
    UNION ALL
    (${selectClaimed(Prisma.sql`'claimed' AS turn,`)})`;
  const changed: TaskChangeRow[] = [];
  const claimed: TaskRow[] = [];
  // The rows as they are (their `turn` column stays on them): a copy of each without it made
  // about a tenth of a busy worker's garbage.
  for (const row of rows) {
    if (row.turn === 'changed') changed.push(withChangeEvent(row as TurnRow & TaskChangeRow));
    else claimed.push(row);
  }
  return { changed, claimed };
}

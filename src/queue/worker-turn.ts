// A busy worker's turn in one statement (one commit): the changes of its attempts (starts,
// progress, ends) and a claim of as many tasks as its local queue has room for. The changed
// rows are RUNNING and the claimed ones PENDING, so the two updates never touch the same row.
import { Prisma } from '../generated/prisma/client.js';
import { PREPARED, type Queryable } from '../platform/db.js';
import { claimCtes, selectClaimed, type Claim } from './claim.js';
import type { TaskRow } from './task-row.js';
import {
  changeCtes,
  selectChanged,
  type Backoff,
  type ChangedTask,
  type TaskChange,
} from './write-changes.js';

export async function workerTurn(
  client: Queryable,
  workerId: string,
  changes: readonly TaskChange[],
  backoff: Backoff,
  claim: Claim,
): Promise<{ changed: ChangedTask[]; claimed: TaskRow[] }> {
  const rows = await client.$queryRaw<
    Array<ChangedTask & { turn: 'changed' | 'claimed' }>
  >`${PREPARED}
    WITH ${changeCtes(workerId, changes, backoff)},
         ${claimCtes(workerId, claim)}
    ${selectChanged(Prisma.sql`'changed' AS turn,`)}
    UNION ALL
    (${selectClaimed(Prisma.sql`'claimed' AS turn,`)})`;
  const changed: ChangedTask[] = [];
  const claimed: TaskRow[] = [];
  // The rows as they are (their `turn` column stays on them): a copy of each without it made
  // about a tenth of a busy worker's garbage.
  for (const row of rows) {
    if (row.turn === 'changed') changed.push(row);
    else claimed.push(row);
  }
  return { changed, claimed };
}

// A busy worker's turn in one statement (one commit): record the attempts that just ended
// and claim as many new tasks as that frees slots. The finished rows are RUNNING and the
// claimed ones PENDING, so the two updates never touch the same row.
import { PREPARED, type Queryable } from '../platform/db.js';
import { Prisma } from '../generated/prisma/client.js';
import { claimCtes, selectClaimed } from './claim.js';
import { finishCtes, selectFinished, type TaskOutcomeOf } from './finish.js';
import type { TaskRow } from './task-row.js';

export async function finishAndClaimTasks(
  client: Queryable,
  workerId: string,
  outcomes: readonly TaskOutcomeOf[],
  claim: { types: string[]; leaseMs: number; limit: number },
): Promise<{ finished: TaskRow[]; claimed: TaskRow[] }> {
  const rows = await client.$queryRaw<
    Array<TaskRow & { change: 'finished' | 'claimed' }>
  >`${PREPARED}
    WITH ${finishCtes(workerId, outcomes)}, ${claimCtes(workerId, claim.types, claim.leaseMs, claim.limit)}
    ${selectFinished(Prisma.sql`'finished' AS change,`)}
    UNION ALL
    (${selectClaimed(Prisma.sql`'claimed' AS change,`)})`;
  const finished: TaskRow[] = [];
  const claimed: TaskRow[] = [];
  for (const { change, ...row } of rows) (change === 'finished' ? finished : claimed).push(row);
  return { finished, claimed };
}

// The fence every write about an attempt passes: its task still RUNNING at that attempt under
// that worker's lease. A late write of a replaced, cancelled or taken-back attempt (a run
// that lived on past its lost lease) matches no row and writes nothing.
import { Prisma } from '../generated/prisma/client.js';

/** `task` (an alias of tasks) held by `workerId` at `attempt`: both values or columns. */
export function holdsLease(
  task: string,
  workerId: Prisma.Sql | string,
  attempt: Prisma.Sql,
): Prisma.Sql {
  const t = Prisma.raw(task);
  return Prisma.sql`${t}.status = 'RUNNING' AND ${t}."lockedBy" = ${workerId} AND ${t}.attempts = ${attempt}`;
}

// Whether a step (`step`, on its task `taskId`) is still the run's: its task row holds the
// run's lease (`held`, a condition on the row `t`), or the row is not written yet and the step
// holds the lease the commit that dispatched it set (a continuation, commit-steps.ts): its
// taskId is that run's, since the reconciler clears it when it gives the run up.
import { Prisma } from '../../../generated/prisma/client.js';

export const runsOnTask = (step: string, taskId: Prisma.Sql, held: Prisma.Sql) => Prisma.sql`
  (EXISTS (SELECT 1 FROM tasks t WHERE t.id = ${taskId} AND ${held})
   OR (${Prisma.raw(step)}."leaseUntil" > now()
       AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = ${taskId})))`;

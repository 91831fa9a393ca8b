// A condition the reconciler's statements share (select-stalled-workflows.ts, and
// lock-stalled-workflow.ts, which reads it again under the lock).
import { Prisma } from '../../../generated/prisma/client.js';

/** The workflow `w` awaits a replan whose task has ended without landing it. */
export const REPLAN_ENDED = Prisma.sql`(w."replanTaskId" IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM tasks t WHERE t.id = w."replanTaskId" AND t.status IN ('PENDING', 'RUNNING')))`;

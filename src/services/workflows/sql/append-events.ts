// Appends events to workflows' logs: each workflow's lastSequence grows by its count and the
// events take the numbers in between, in the order given (the row lock orders concurrent writers).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Queryable } from '../../../platform/db.js';

export interface NewWorkflowEvent {
  workflowId: string;
  kind: 'WORKFLOW' | 'STEP' | 'PROGRESS' | 'PLAN';
  stepKey: string | null;
  status: string;
  progressPercent: number;
  message: string | null;
}

/**
 * A CTE (`appended`) writing `source`'s events (a CTE or subquery with the columns of
 * NewWorkflowEvent and an `ord` to order them per workflow); it returns (workflowId, last sequence).
 */
export function appendEventsCtes(source: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    new_events AS (
      SELECT e.*, row_number() OVER (PARTITION BY e."workflowId" ORDER BY e.ord, e."stepKey") AS n,
             count(*) OVER (PARTITION BY e."workflowId") AS total
      FROM (${source}) e
    ),
    bumped AS (
      UPDATE workflows w SET "lastSequence" = w."lastSequence" + c.total, "updatedAt" = now()
      FROM (SELECT DISTINCT "workflowId", total FROM new_events) c
      WHERE w.id = c."workflowId"
      RETURNING w.id, w."lastSequence"
    ),
    appended AS (
      INSERT INTO workflow_events ("workflowId", sequence, kind, "stepKey", status, "progressPercent", message)
      SELECT e."workflowId", b."lastSequence" - e.total + e.n, e.kind, e."stepKey", e.status, e."progressPercent",
             e.message
      FROM new_events e JOIN bumped b ON b.id = e."workflowId"
      RETURNING "workflowId", sequence
    )`;
}

/** Events given as values, in one statement. Returns each workflow's new last sequence. */
export async function appendEvents(
  client: Queryable,
  events: readonly NewWorkflowEvent[],
): Promise<Array<{ workflowId: string; lastSequence: number }>> {
  if (events.length === 0) return [];
  const column = <K extends keyof NewWorkflowEvent>(key: K) => events.map((event) => event[key]);
  const source = Prisma.sql`
    SELECT * FROM unnest(${column('workflowId')}::uuid[], ${column('kind')}::text[], ${column('stepKey')}::text[],
                         ${column('status')}::text[], ${column('progressPercent')}::int[], ${column('message')}::text[])
      WITH ORDINALITY AS v("workflowId", kind, "stepKey", status, "progressPercent", message, ord)`;
  return client.$queryRaw`
    WITH ${appendEventsCtes(source)}
    SELECT "workflowId", max(sequence)::int AS "lastSequence" FROM appended GROUP BY "workflowId"`;
}

// A plan's steps and their dependency edges, in one statement. A dependency may name a step
// inserted here or one the workflow has already (a replan's tail depends on what ran).
import type { Queryable } from '../../../platform/db.js';

export interface NewStep {
  key: string;
  kind: string;
  agentId: string | null;
  input: unknown;
  dependsOn: string[];
  failurePolicy: string | null;
  complexity: number;
  estimate: unknown;
  status: 'PENDING' | 'READY';
  waitingOn: number;
  position: number;
}

export async function insertSteps(
  client: Queryable,
  workflowId: string,
  steps: readonly NewStep[],
): Promise<number> {
  if (steps.length === 0) return 0;
  const column = <K extends keyof NewStep>(key: K) => steps.map((step) => step[key]);
  const json = (values: unknown[]) => values.map((value) => JSON.stringify(value ?? {}));
  const rows = await client.$queryRaw<Array<{ edges: number }>>`
    WITH input AS (
      SELECT * FROM unnest(${column('key')}::text[], ${column('kind')}::"WorkflowStepKind"[],
                           ${column('agentId')}::uuid[],
                           ${json(column('input'))}::jsonb[], ${json(column('dependsOn'))}::jsonb[],
                           ${column('failurePolicy')}::"WorkflowFailurePolicy"[], ${column('complexity')}::float8[],
                           ${json(column('estimate'))}::jsonb[], ${column('status')}::"WorkflowStepStatus"[],
                           ${column('waitingOn')}::int[], ${column('position')}::int[])
        AS i(key, kind, "agentId", input, "dependsOn", "failurePolicy", complexity, estimate, status, "waitingOn",
             position)
    ),
    inserted AS (
      INSERT INTO workflow_steps ("workflowId", key, kind, "agentId", input, "dependsOn", "failurePolicy", complexity,
                                  estimate, status, "waitingOn", position)
      SELECT ${workflowId}::uuid, key, kind, "agentId", input, ARRAY(SELECT jsonb_array_elements_text("dependsOn")),
             "failurePolicy", complexity, estimate, status, "waitingOn", position
      FROM input
      RETURNING id, key, "dependsOn"
    ),
    everyone AS (
      SELECT id, key FROM inserted
      UNION ALL
      SELECT id, key FROM workflow_steps WHERE "workflowId" = ${workflowId}::uuid
    ),
    edges AS (
      INSERT INTO workflow_step_edges ("parentId", "childId")
      SELECT p.id, c.id
      FROM inserted c CROSS JOIN LATERAL unnest(c."dependsOn") AS d(key) JOIN everyone p ON p.key = d.key
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM edges)::int AS edges`;
  return rows[0]!.edges;
}

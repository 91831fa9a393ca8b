// What the LLM calls of these tasks were metered at (every attempt's, failed ones too): a
// step's actual tokens and cost are its calls'.
import { PREPARED, type Queryable } from '../../../platform/db.js';

export interface MeteredCalls {
  tokens: number;
  costUsd: number;
}

export async function meteredCalls(
  client: Queryable,
  taskIds: readonly string[],
): Promise<Map<string, MeteredCalls>> {
  if (taskIds.length === 0) return new Map();
  const rows = await client.$queryRaw<Array<MeteredCalls & { taskId: string }>>`${PREPARED}
    -- Summed as bigint: two int columns' sum may pass the int range (an overflow failed the
    -- step commit that asked, and every retry of it).
    SELECT "taskId", sum("inputTokens"::bigint + "outputTokens")::float8 AS tokens,
           sum("costUsd")::float8 AS "costUsd"
    FROM llm_calls WHERE "taskId" = ANY(${taskIds}::uuid[])
    GROUP BY "taskId"`;
  return new Map(rows.map(({ taskId, ...calls }) => [taskId, calls]));
}

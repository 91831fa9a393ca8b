// A batch of metered attempts in one INSERT … SELECT FROM json_to_recordset($1): the rows go
// as one JSON text (one JSON.stringify), not as 19 arrays the driver and Prisma walk value by
// value, which was most of what a flush allocated. A retried batch skips the rows already written.
import type { Queryable } from '../../platform/db.js';
import type { LlmCallOutcome, LlmService } from '../../generated/prisma/enums.js';

/** One metered attempt. */
export interface LlmCallRow {
  id: string;
  service: LlmService;
  deploymentId: string | null;
  provider: string;
  model: string;
  teamId: string | null;
  apiKeyId: string | null;
  topicId: string | null;
  taskId: string | null;
  workflowId: string | null;
  attempt: number;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  costUsd: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  outcome: LlmCallOutcome;
  httpStatus: number | null;
  createdAt: Date;
}

export async function insertLlmCalls(client: Queryable, rows: LlmCallRow[]): Promise<void> {
  await client.$queryRaw`
    INSERT INTO llm_calls (id, service, "deploymentId", provider, model, "teamId", "apiKeyId",
      "topicId", "taskId", "workflowId", attempt, "inputTokens", "outputTokens", "usageEstimated", "costUsd",
      "latencyMs", "timeToFirstTokenMs", outcome, "httpStatus", "createdAt")
    SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(
      id uuid, service "LlmService", "deploymentId" uuid, provider text, model text,
      "teamId" uuid, "apiKeyId" uuid, "topicId" uuid, "taskId" uuid, "workflowId" uuid, attempt int,
      "inputTokens" int, "outputTokens" int, "usageEstimated" boolean, "costUsd" float8,
      "latencyMs" int, "timeToFirstTokenMs" int, outcome "LlmCallOutcome", "httpStatus" int,
      "createdAt" timestamptz)
    ON CONFLICT (id) DO NOTHING`;
}

// A batch of metered attempts in one INSERT … SELECT FROM unnest(…): one array per column,
// so the statement and its parameters stay the same size whatever the batch (and cost far
// less to build than a multi-row insert). A retried batch skips the rows already written.
import type { Queryable } from '../../../platform/db.js';
import type { LlmCallOutcome, LlmService } from '../../../generated/prisma/enums.js';

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
  const column = <K extends keyof LlmCallRow>(key: K) => rows.map((row) => row[key]);
  await client.$queryRaw`
    INSERT INTO llm_calls (id, service, "deploymentId", provider, model, "teamId", "apiKeyId",
      "topicId", "taskId", attempt, "inputTokens", "outputTokens", "usageEstimated", "costUsd",
      "latencyMs", "timeToFirstTokenMs", outcome, "httpStatus", "createdAt")
    SELECT * FROM unnest(
      ${column('id')}::uuid[], ${column('service')}::"LlmService"[], ${column('deploymentId')}::uuid[],
      ${column('provider')}::text[], ${column('model')}::text[], ${column('teamId')}::uuid[],
      ${column('apiKeyId')}::uuid[], ${column('topicId')}::uuid[], ${column('taskId')}::uuid[],
      ${column('attempt')}::int[], ${column('inputTokens')}::int[], ${column('outputTokens')}::int[],
      ${column('usageEstimated')}::boolean[], ${column('costUsd')}::float8[], ${column('latencyMs')}::int[],
      ${column('timeToFirstTokenMs')}::int[], ${column('outcome')}::"LlmCallOutcome"[],
      ${column('httpStatus')}::int[], ${column('createdAt')}::timestamptz[])
    ON CONFLICT (id) DO NOTHING`;
}

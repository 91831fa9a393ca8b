// One delivery attempt of a message, numbered after the message's last: a redelivery
// continues the count, so every attempt keeps its row.
import { PREPARED, type Queryable } from '../../../platform/db.js';

export interface AttemptRow {
  messageId: string;
  taskId: string | null;
  endpointId: string | null;
  url: string;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
  durationMs: number;
}

export async function recordAttempt(client: Queryable, row: AttemptRow): Promise<void> {
  await client.$executeRaw`${PREPARED}
    INSERT INTO webhook_deliveries
      (id, "messageId", "taskId", "endpointId", url, attempt, "statusCode", error, succeeded, "durationMs")
    SELECT gen_random_uuid(), ${row.messageId}::uuid, ${row.taskId}::uuid, ${row.endpointId}::uuid,
           ${row.url}, coalesce(max(attempt), 0) + 1, ${row.statusCode}::int, ${row.error},
           ${row.succeeded}, ${row.durationMs}::int
    FROM webhook_deliveries WHERE "messageId" = ${row.messageId}::uuid`;
}

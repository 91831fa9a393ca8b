// One delivery attempt of a message, numbered after the message's last: a redelivery
// continues the count, so every attempt keeps its row. Attempts of one message running at once
// (redeliveries side by side, or beside a retry) are numbered one at a time: each locks the
// message's row first, so its insert, a statement of its own (READ COMMITTED), reads the
// number the one before it committed. In one statement both read the same last number, and
// the second failed on the unique (messageId, attempt) after its POST had gone out.
import { db, PREPARED } from '../../../platform/db.js';

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

/**
 * Whether it was recorded: false when the message is gone (its endpoint was deleted while the
 * POST was out), and with it every attempt it had.
 */
export async function recordAttempt(row: AttemptRow): Promise<boolean> {
  const client = db();
  const [, inserted] = await client.$transaction([
    client.$executeRaw`${PREPARED}
      SELECT 1 FROM webhook_messages WHERE id = ${row.messageId}::uuid FOR NO KEY UPDATE`,
    client.$executeRaw`${PREPARED}
      INSERT INTO webhook_deliveries
        (id, "messageId", "taskId", "workflowId", "endpointId", url, attempt, "statusCode", error,
         succeeded, "durationMs")
      SELECT gen_random_uuid(), m.id, ${row.taskId}::uuid, m."workflowId", ${row.endpointId}::uuid,
             ${row.url},
             (SELECT coalesce(max(d.attempt), 0) + 1 FROM webhook_deliveries d WHERE d."messageId" = m.id),
             ${row.statusCode}::int, ${row.error}, ${row.succeeded}, ${row.durationMs}::int
      FROM webhook_messages m WHERE m.id = ${row.messageId}::uuid`,
  ]);
  return inserted > 0;
}

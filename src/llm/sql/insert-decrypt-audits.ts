// The vault's DECRYPT audit rows of a metering batch, one per call that opened a key. A batch
// tried again after a commit whose acknowledgement was lost skips the calls already audited
// (the audit table is append-only and has no key of its own to conflict on; one writer per
// process and a call id per process make the NOT EXISTS race-free).
import type { Queryable } from '../../platform/db.js';

export interface DecryptAudit {
  providerKeyId: string;
  teamId: string | null;
  apiKeyId: string | null;
  llmCallId: string;
  at: Date;
}

export async function insertDecryptAudits(
  client: Queryable,
  audits: readonly DecryptAudit[],
): Promise<void> {
  if (audits.length === 0) return;
  await client.$queryRaw`
    INSERT INTO provider_key_audit ("providerKeyId", "teamId", action, "apiKeyId", "llmCallId", at)
    SELECT r."providerKeyId", r."teamId", 'DECRYPT', r."apiKeyId", r."llmCallId", r.at
    FROM json_to_recordset(${JSON.stringify(audits)}::json) AS r(
      "providerKeyId" uuid, "teamId" uuid, "apiKeyId" uuid, "llmCallId" uuid, at timestamptz)
    WHERE NOT EXISTS (
      SELECT 1 FROM provider_key_audit a WHERE a."llmCallId" = r."llmCallId" AND a.action = 'DECRYPT')`;
}

// A provider key's audit trail (append-only): one row per change, written by the transaction
// that makes it; decrypts are written with the call they served (metering.ts).
import type { Prisma } from '../generated/prisma/client.js';
import type { ProviderKeyAction } from '../generated/prisma/enums.js';

/** Who acted: a caller's user and key; none for the gateway's own changes (a rejection). */
export interface KeyActor {
  userId: string | null;
  apiKeyId: string | null;
}

export function auditKey(
  client: Prisma.TransactionClient,
  key: { id: string; teamId: string | null },
  action: ProviderKeyAction,
  by?: KeyActor,
  detail?: string,
) {
  return client.providerKeyAudit.create({
    data: {
      providerKeyId: key.id,
      teamId: key.teamId,
      action,
      actorUserId: by?.userId,
      apiKeyId: by?.apiKeyId,
      detail,
    },
  });
}

// A plugin's audit trail (plugin_audit, append-only): every change of it and of its secrets,
// written by the transaction that makes it, with who made it. Secret values never appear.
import type { Prisma } from '../../generated/prisma/client.js';
import type { PluginAuditAction } from '../../generated/prisma/enums.js';
import type { Caller } from '../auth/caller.js';

export function auditPlugin(
  client: Prisma.TransactionClient,
  installation: { id: string; teamId: string },
  action: PluginAuditAction,
  caller: Pick<Caller, 'userId' | 'apiKeyId'>,
  detail?: string,
) {
  return client.pluginAudit.create({
    data: {
      installationId: installation.id,
      teamId: installation.teamId,
      action,
      actorUserId: caller.userId,
      apiKeyId: caller.apiKeyId,
      detail,
    },
  });
}

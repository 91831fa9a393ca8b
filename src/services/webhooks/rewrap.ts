// The vault's rewrap, for webhook endpoints' secrets: each data key (current and, during an
// overlap, the replaced one) wrapped again by the newest master key, as provider keys are
// (src/services/llm/vault-keys.ts runs both in one transaction).
import type { Transaction } from '../../platform/db.js';
import { db } from '../../platform/db.js';
import { VaultError, type Keyring } from '../../platform/vault.js';
import { rewrappedSecretColumns } from './secrets.js';

export interface EndpointRewrap {
  /** Endpoints the keyring cannot open (nothing is rewrapped then). */
  unreadable: string[];
  /** Writes the rewrapped columns in the caller's transaction; how many endpoints. */
  write(tx: Transaction): Promise<number>;
}

export async function planEndpointRewrap(keyring: Keyring): Promise<EndpointRewrap> {
  const endpoints = await db().webhookEndpoint.findMany();
  const unreadable: string[] = [];
  const moves = endpoints.flatMap((endpoint) => {
    try {
      const columns = rewrappedSecretColumns(keyring, endpoint);
      return columns ? [{ id: endpoint.id, columns }] : [];
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      unreadable.push(endpoint.id);
      return [];
    }
  });
  return {
    unreadable,
    async write(tx) {
      for (const { id, columns } of moves)
        await tx.client.webhookEndpoint.update({ where: { id }, data: columns });
      return moves.length;
    },
  };
}

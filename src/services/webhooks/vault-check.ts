// At start-up, as for provider keys (src/llm/vault.ts): the keyring must open every
// endpoint's secrets, or their messages could never be signed. Production refuses to start
// (one line); elsewhere the endpoints are named in a warning and their deliveries fail.
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup-failure.js';
import { VaultError, type Keyring } from '../../platform/vault.js';
import { signingSecrets } from './secrets.js';

/** The endpoints whose secrets this keyring cannot open (the one in its overlap included). */
export async function unopenableEndpoints(keyring: Keyring): Promise<string[]> {
  const endpoints = await db().webhookEndpoint.findMany();
  return endpoints
    .filter((endpoint) => {
      try {
        signingSecrets(keyring, endpoint, new Date(0));
        return false;
      } catch (error) {
        if (error instanceof VaultError) return true;
        throw error;
      }
    })
    .map((endpoint) => endpoint.id);
}

export async function checkEndpointSecrets(keyring: Keyring, nodeEnv: string): Promise<void> {
  const unopenable = await unopenableEndpoints(keyring);
  if (unopenable.length === 0) return;
  const problem = `KEY_VAULT_MASTER_KEYS cannot open ${unopenable.length} webhook endpoint secret(s)`;
  if (nodeEnv === 'production') throw new StartupError(problem);
  logger.warn({ endpoints: unopenable }, `key vault: ${problem}; their deliveries fail`);
}

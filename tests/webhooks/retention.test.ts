// Retention and the vault: messages past WEBHOOK_RETENTION_DAYS go with their attempts (and
// attempts older than messages), younger ones stay; the vault's rewrap moves endpoint secrets
// to the newest master key, and they still sign; a keyring that cannot open one stops a
// production start.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { generateKeyringText, parseKeyring } from '../../src/platform/vault.js';
import { deleteExpiredWebhooks } from '../../src/services/webhooks/retention.js';
import { signingSecrets } from '../../src/services/webhooks/secrets.js';
import {
  checkEndpointSecrets,
  unopenableEndpoints,
} from '../../src/services/webhooks/vault-check.js';
import { StartupError } from '../../src/platform/startup-failure.js';
import { useHarness } from '../utils/harness.js';
import { createEndpoint } from './fixture.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const DAY = 86_400_000;

describe('webhook retention and the vault', () => {
  it('deletes messages and attempts older than the retention, and nothing younger', async () => {
    await h.startApp();
    const endpoint = await createEndpoint(h, h.adminKey, undefined, 'http://127.0.0.1:9/x', [
      'task.completed',
    ]);
    const endpointId = rowId(endpoint.id);
    const message = (createdAt: Date) =>
      db().webhookMessage.create({
        data: {
          endpointId,
          eventType: 'task.completed',
          payload: {},
          createdAt,
          deliveries: {
            create: {
              endpointId,
              url: 'http://127.0.0.1:9/x',
              attempt: 1,
              succeeded: true,
              deliveredAt: createdAt,
            },
          },
        },
      });
    const old = await message(new Date(Date.now() - 31 * DAY));
    const young = await message(new Date(Date.now() - 29 * DAY));
    const orphan = await db().webhookDelivery.create({
      data: {
        url: 'http://127.0.0.1:9/x',
        attempt: 1,
        succeeded: false,
        deliveredAt: new Date(Date.now() - 31 * DAY),
      },
    });
    expect(await deleteExpiredWebhooks(db(), 30)).toBe(2);
    expect(await db().webhookMessage.findUnique({ where: { id: old.id } })).toBeNull();
    expect(await db().webhookDelivery.count({ where: { messageId: old.id } })).toBe(0);
    expect(await db().webhookDelivery.findUnique({ where: { id: orphan.id } })).toBeNull();
    expect(await db().webhookMessage.findUnique({ where: { id: young.id } })).not.toBeNull();
    expect(await db().webhookDelivery.count({ where: { messageId: young.id } })).toBe(1);
  });

  it('rewraps endpoint secrets with the provider keys, and they still sign', async () => {
    const hookUrl = 'http://127.0.0.1:9/rewrap';
    const created = await createEndpoint(h, h.adminKey, undefined, hookUrl, ['task.dead']);
    const rotated = await h.gql(
      'mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id, overlapSeconds: 600) { secret } }',
      { id: created.id },
    );
    const secret = rotated.data.rotateWebhookEndpointSecret.secret;
    const oldVersion = h.keyring.keys[0]!.version;
    // A new master key first in the keyring, the old one kept to unwrap (as an operator rotates it).
    const newer = parseKeyring(
      `${generateKeyringText('v9')},${oldVersion}:${h.keyring.keys[0]!.key.toString('base64')}`,
    );
    const keyring = h.llm.keyring;
    Object.assign(h.llm, { keyring: newer });
    try {
      const response = await h.gql('mutation { rewrapProviderKeys }', {});
      expect(response.errors).toBeUndefined();
      const row = await db().webhookEndpoint.findUniqueOrThrow({
        where: { id: rowId(created.id) },
      });
      expect(row.masterKeyVersion).toBe('v9');
      expect(row.previousMasterKeyVersion).toBe('v9');
      // Only the newest master key now: both secrets still open and sign.
      const onlyNewer = { keys: [newer.keys[0]!], generated: false };
      expect(signingSecrets(onlyNewer, row)).toEqual([secret, created.secret]);
    } finally {
      Object.assign(h.llm, { keyring });
    }
  });

  it('refuses to start in production when the keyring cannot open an endpoint secret', async () => {
    const created = await createEndpoint(h, h.adminKey, undefined, 'http://127.0.0.1:9/check', [
      'task.dead',
    ]);
    const id = rowId(created.id);
    expect(await unopenableEndpoints(h.llm.keyring)).not.toContain(id);
    const stranger = parseKeyring(generateKeyringText('v7'));
    expect(await unopenableEndpoints(stranger)).toContain(id);
    await expect(checkEndpointSecrets(stranger, 'production')).rejects.toBeInstanceOf(StartupError);
    await expect(checkEndpointSecrets(stranger, 'development')).resolves.toBeUndefined();
  });
});

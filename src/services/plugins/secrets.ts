// A plugin's secrets (`secrets:<NAME>`): sealed by the key vault (src/platform/vault.ts, as
// provider keys and webhook endpoint secrets are), bound to the team, the installation and the
// name, so a row copied elsewhere fails to open; opened only to render a request. No query
// returns them: installations show the names that are set, never a value.
import type { Prisma } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import { openSecret, sealSecret, type Keyring } from '../../platform/vault.js';

export const pluginSecretBinding = (teamId: string, installationId: string, name: string) =>
  `plugin-secret|${teamId}|${installationId}|${name}`;

/** Sets (or replaces) each secret; the names that were new and those replaced. */
export async function storeSecrets(
  client: Prisma.TransactionClient,
  keyring: Keyring,
  installation: { id: string; teamId: string },
  secrets: ReadonlyArray<{ name: string; value: string }>,
): Promise<{ set: string[]; replaced: string[] }> {
  const existing = new Set(
    (
      await client.pluginSecret.findMany({
        where: { installationId: installation.id },
        select: { name: true },
      })
    ).map((row) => row.name),
  );
  for (const { name, value } of secrets) {
    const sealed = sealSecret(
      keyring,
      value,
      pluginSecretBinding(installation.teamId, installation.id, name),
    );
    await client.pluginSecret.upsert({
      where: { installationId_name: { installationId: installation.id, name } },
      create: { installationId: installation.id, name, ...sealed },
      update: sealed,
    });
  }
  const names = secrets.map((secret) => secret.name);
  return {
    set: names.filter((name) => !existing.has(name)),
    replaced: names.filter((name) => existing.has(name)),
  };
}

/** The granted secrets of an installation, opened (only to render a request). */
export async function openSecrets(
  keyring: Keyring,
  installation: { id: string; teamId: string },
  names: ReadonlySet<string>,
): Promise<Map<string, string>> {
  if (names.size === 0) return new Map();
  const rows = await db().pluginSecret.findMany({
    where: { installationId: installation.id, name: { in: [...names] } },
  });
  return new Map(
    rows.map((row) => [
      row.name,
      openSecret(
        keyring,
        {
          secretBox: Buffer.from(row.secretBox),
          wrappedKey: Buffer.from(row.wrappedKey),
          masterKeyVersion: row.masterKeyVersion,
        },
        pluginSecretBinding(installation.teamId, installation.id, row.name),
      ),
    ]),
  );
}

// An endpoint's signing secrets: made here (`whsec_` + 24 random bytes, Standard Webhooks),
// sealed by the key vault (src/platform/vault.ts, as provider keys are) and opened only to
// sign. During a rotation's overlap the replaced secret signs too.
import { randomBytes } from 'node:crypto';
import {
  openSecret,
  rewrap,
  sealSecret,
  type Keyring,
  type SealedSecret,
} from '../../platform/vault.js';

/** What the ciphertexts are bound to: the team and the endpoint (a copied row fails to open). */
export const endpointSecretBinding = (teamId: string, endpointId: string, previous = false) =>
  `webhook-endpoint|${teamId}|${endpointId}${previous ? '|previous' : ''}`;

export const newEndpointSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export interface SealedEndpointSecrets {
  id: string;
  teamId: string;
  secretBox: Uint8Array;
  wrappedKey: Uint8Array;
  masterKeyVersion: string;
  previousSecretBox: Uint8Array | null;
  previousWrappedKey: Uint8Array | null;
  previousMasterKeyVersion: string | null;
  previousExpiresAt: Date | null;
}

const sealed = (box: Uint8Array, key: Uint8Array, version: string): SealedSecret => ({
  secretBox: Buffer.from(box),
  wrappedKey: Buffer.from(key),
  masterKeyVersion: version,
});

/** The columns of a new current secret. */
export function sealEndpointSecret(
  keyring: Keyring,
  teamId: string,
  endpointId: string,
  secret: string,
) {
  return sealSecret(keyring, secret, endpointSecretBinding(teamId, endpointId));
}

/** The secrets that sign now: the current one, and the replaced one while its overlap lasts. */
export function signingSecrets(
  keyring: Keyring,
  row: SealedEndpointSecrets,
  now = new Date(),
): string[] {
  const secrets = [
    openSecret(
      keyring,
      sealed(row.secretBox, row.wrappedKey, row.masterKeyVersion),
      endpointSecretBinding(row.teamId, row.id),
    ),
  ];
  if (
    row.previousSecretBox &&
    row.previousWrappedKey &&
    row.previousMasterKeyVersion &&
    row.previousExpiresAt &&
    row.previousExpiresAt > now
  )
    secrets.push(
      openSecret(
        keyring,
        sealed(row.previousSecretBox, row.previousWrappedKey, row.previousMasterKeyVersion),
        endpointSecretBinding(row.teamId, row.id, true),
      ),
    );
  return secrets;
}

/**
 * The rotation's columns: the new secret current, the old one (its data key rewrapped to the
 * previous binding) signing until `previousExpiresAt`; null then: no overlap.
 */
export function rotatedSecretColumns(
  keyring: Keyring,
  row: SealedEndpointSecrets,
  secret: string,
  previousExpiresAt: Date | null,
) {
  const current = sealEndpointSecret(keyring, row.teamId, row.id, secret);
  if (!previousExpiresAt)
    return {
      ...current,
      previousSecretBox: null,
      previousWrappedKey: null,
      previousMasterKeyVersion: null,
      previousExpiresAt: null,
    };
  const old = openSecret(
    keyring,
    sealed(row.secretBox, row.wrappedKey, row.masterKeyVersion),
    endpointSecretBinding(row.teamId, row.id),
  );
  const previous = sealSecret(keyring, old, endpointSecretBinding(row.teamId, row.id, true));
  return {
    ...current,
    previousSecretBox: previous.secretBox,
    previousWrappedKey: previous.wrappedKey,
    previousMasterKeyVersion: previous.masterKeyVersion,
    previousExpiresAt,
  };
}

/** The vault's rewrap for one endpoint: its data keys under the newest master key (undefined: already). */
export function rewrappedSecretColumns(keyring: Keyring, row: SealedEndpointSecrets) {
  const current = rewrap(
    keyring,
    sealed(row.secretBox, row.wrappedKey, row.masterKeyVersion),
    endpointSecretBinding(row.teamId, row.id),
  );
  const previous =
    row.previousSecretBox && row.previousWrappedKey && row.previousMasterKeyVersion
      ? rewrap(
          keyring,
          sealed(row.previousSecretBox, row.previousWrappedKey, row.previousMasterKeyVersion),
          endpointSecretBinding(row.teamId, row.id, true),
        )
      : undefined;
  if (!current && !previous) return undefined;
  return {
    ...(current && { wrappedKey: current.wrappedKey, masterKeyVersion: current.masterKeyVersion }),
    ...(previous && {
      previousWrappedKey: previous.wrappedKey,
      previousMasterKeyVersion: previous.masterKeyVersion,
    }),
  };
}

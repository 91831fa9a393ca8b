// Envelope encryption of provider keys: each secret under its own random data key
// (AES-256-GCM), the data key wrapped by the newest master key of the keyring
// (KEY_VAULT_MASTER_KEYS=v2:<base64>,v1:<base64>); every version still unwraps. Both layers
// carry the same additional data (team and key id), so a row copied to another team or id
// fails its tag check. node:crypto rather than a library: AES-GCM with a random 96-bit IV is
// the whole scheme, and the KMS-shaped libraries add a service we do not run.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface MasterKey {
  version: string;
  key: Buffer;
}

/** Newest first: the first version wraps new and rewrapped keys. */
export interface Keyring {
  keys: readonly MasterKey[];
  /** Generated for development (said in the log), not the operator's. */
  generated: boolean;
}

export interface SealedSecret {
  /** iv | tag | ciphertext of the secret under the data key. */
  secretBox: Buffer<ArrayBuffer>;
  /** iv | tag | ciphertext of the data key under masterKeyVersion. */
  wrappedKey: Buffer<ArrayBuffer>;
  masterKeyVersion: string;
}

export class VaultError extends Error {
  override name = 'VaultError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `v2:<base64 of 32 bytes>,v1:…` → the keyring; throws a message naming what is wrong (never the key). */
export function parseKeyring(text: string): Keyring {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new VaultError('no master key');
  const seen = new Set<string>();
  const keys = entries.map((entry, index) => {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=_-]+)$/.exec(entry);
    if (!match) throw new VaultError(`entry ${index + 1} is not <version>:<base64>`);
    const [, version, encoded] = match;
    const key = Buffer.from(encoded!, 'base64');
    if (key.length !== 32)
      throw new VaultError(`version ${version} is ${key.length} bytes, not 32 (AES-256)`);
    if (seen.has(version!)) throw new VaultError(`version ${version} appears twice`);
    seen.add(version!);
    return { version: version!, key };
  });
  return { keys, generated: false };
}

/** For the configuration's schema: the keyring, or an issue saying what is wrong (never the key). */
export function keyringFromEnv(
  text: string | undefined,
  ctx: { addIssue(issue: { code: 'custom'; message: string }): void },
): Keyring | undefined {
  if (text === undefined) return undefined;
  try {
    return parseKeyring(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return undefined;
  }
}

/** A new development keyring, as KEY_VAULT_MASTER_KEYS would spell it. */
export function generateKeyringText(version = 'v1'): string {
  return `${version}:${randomBytes(32).toString('base64')}`;
}

/** What the ciphertexts are bound to: the owning team (or the operator) and the key's id. */
export const secretBinding = (teamId: string | null, keyId: string) =>
  `provider-key|${teamId ?? 'operator'}|${keyId}`;

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer<ArrayBuffer> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, box: Uint8Array, aad: string): Buffer {
  if (box.length < IV_BYTES + TAG_BYTES) throw new VaultError('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(box.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(box.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new VaultError('does not decrypt (wrong master key, or a row moved to another key)');
  }
}

function masterKey(keyring: Keyring, version: string): Buffer {
  const found = keyring.keys.find((each) => each.version === version);
  if (!found) throw new VaultError(`master key ${version} is not in the keyring`);
  return found.key;
}

/** The secret under a fresh data key, wrapped by the newest master key. */
export function sealSecret(keyring: Keyring, secret: string, binding: string): SealedSecret {
  const dataKey = randomBytes(32);
  const newest = keyring.keys[0]!;
  const sealed = {
    secretBox: seal(dataKey, Buffer.from(secret, 'utf8'), binding),
    wrappedKey: seal(newest.key, dataKey, binding),
    masterKeyVersion: newest.version,
  };
  dataKey.fill(0);
  return sealed;
}

/** The data key, unwrapped: proves the keyring opens the row. */
function unwrapDataKey(keyring: Keyring, sealed: SealedSecret, binding: string): Buffer {
  return open(masterKey(keyring, sealed.masterKeyVersion), sealed.wrappedKey, binding);
}

export function openSecret(keyring: Keyring, sealed: SealedSecret, binding: string): string {
  const dataKey = unwrapDataKey(keyring, sealed, binding);
  try {
    return open(dataKey, sealed.secretBox, binding).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** Whether the keyring opens the row (start-up check): the wrapped key and then the secret. */
export function canOpen(keyring: Keyring, sealed: SealedSecret, binding: string): boolean {
  try {
    openSecret(keyring, sealed, binding);
    return true;
  } catch {
    return false;
  }
}

/** The same data key (the secret's ciphertext unchanged) wrapped by the newest master key. */
export function rewrap(
  keyring: Keyring,
  sealed: SealedSecret,
  binding: string,
): SealedSecret | undefined {
  const newest = keyring.keys[0]!;
  if (sealed.masterKeyVersion === newest.version) return undefined;
  const dataKey = unwrapDataKey(keyring, sealed, binding);
  try {
    return {
      secretBox: sealed.secretBox,
      wrappedKey: seal(newest.key, dataKey, binding),
      masterKeyVersion: newest.version,
    };
  } finally {
    dataKey.fill(0);
  }
}

/** SHA-256 of the secret, hex: compare keys without seeing them. */
export const fingerprintOf = (secret: string) =>
  createHash('sha256').update(secret, 'utf8').digest('hex');

/** `sk-…x9Qa`: the vendor prefix and the last four characters, and only for long secrets. */
export function hintOf(secret: string): string {
  if (secret.length < 16) return `…${secret.length >= 10 ? secret.slice(-2) : ''}`;
  const prefix = /^[A-Za-z]{1,4}-/.exec(secret)?.[0] ?? secret.slice(0, 2);
  return `${prefix}…${secret.slice(-4)}`;
}

// Whether this process's keyring opens a provider key (KEY_UNREADABLE otherwise), checked as
// the start-up check does (vault canOpen; the secret is not kept, nor used for a call, so no
// audit row), once per catalog entry (a rotation or rewrap makes a new entry).
import { canOpen, secretBinding, type Keyring } from '../platform/vault.js';
import type { KeyEntry } from './catalog.js';

const known = new WeakMap<KeyEntry, boolean>();

export function keyReadable(keyring: Keyring | undefined): (key: KeyEntry) => boolean {
  return (key) => {
    let readable = known.get(key);
    if (readable === undefined) {
      readable =
        keyring !== undefined && canOpen(keyring, key.sealed, secretBinding(key.teamId, key.id));
      known.set(key, readable);
    }
    return readable;
  };
}

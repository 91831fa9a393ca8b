// The keys behind open subscriptions, read again from the database (not the key cache) when
// their users' rights may have changed: the same row as select-key-caller.ts per key, for
// many keys in one statement (see src/http/live/stream-guard.ts).
import type { Queryable } from '../../../platform/db.js';
import { keyCallerSelect, type KeyCallerRow } from './select-key-caller.js';

export function selectKeyCallersById(
  client: Queryable,
  apiKeyIds: readonly string[],
): Promise<KeyCallerRow[]> {
  return client.$queryRaw<KeyCallerRow[]>`
    ${keyCallerSelect}
    WHERE k.id = ANY(${apiKeyIds as string[]}::uuid[])`;
}

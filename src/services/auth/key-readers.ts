// What a key may read now, for work done later on its behalf (a report written by a worker):
// the teams of its caller as the authenticator makes it (its own team only for a key an
// administrator minted), none once it is revoked or its member left its team; null for the
// operator's (no key: every team).
import { db } from '../../platform/db.js';
import { callerOfKey } from './authenticator.js';
import { selectKeyCallersById } from './sql/select-key-callers-by-id.js';

export async function readableTeamsOfKey(apiKeyId: string | null): Promise<string[] | null> {
  if (apiKeyId === null) return null;
  const [row] = await selectKeyCallersById(db(), [apiKeyId]);
  const caller = row && callerOfKey(row);
  return caller ? [...caller.roles.keys()] : [];
}

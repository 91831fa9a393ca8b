// What a key may read now, for work done later on its behalf (a report written by a worker):
// the teams of its member (its own team only for a key an administrator minted), none once it
// is revoked or its member left its team; null for the operator's (no key: every team).
import { db } from '../../platform/db.js';
import { selectKeyCallersById } from './sql/select-key-callers-by-id.js';

export async function readableTeamsOfKey(apiKeyId: string | null): Promise<string[] | null> {
  if (apiKeyId === null) return null;
  const [row] = await selectKeyCallersById(db(), [apiKeyId]);
  if (!row || row.revokedAt) return [];
  const teams = row.memberships.map((membership) => membership.teamId);
  return teams.includes(row.teamId) ? teams : [];
}

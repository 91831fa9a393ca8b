// The keys behind open subscriptions, read again from the database (not the key cache) when
// their users' rights may have changed: the same row as select-key-caller.ts per key, for
// many keys in one statement (see src/http/live/stream-guard.ts).
import type { Queryable } from '../../../platform/db.js';
import type { KeyCallerRow } from './select-key-caller.js';

export function selectKeyCallersById(
  client: Queryable,
  apiKeyIds: readonly string[],
): Promise<KeyCallerRow[]> {
  return client.$queryRaw<KeyCallerRow[]>`
    SELECT k.id::text AS id, k."teamId"::text AS "teamId", k.scopes::text[] AS scopes,
           k."revokedAt", k."mintedById"::text AS "mintedById", u.id::text AS "userId", u.name AS "userName",
           coalesce((SELECT json_agg(json_build_object('teamId', m."teamId", 'role', m.role))
                     FROM team_members m
                     -- A key an administrator minted for the member acts in its own team only.
                     WHERE m."userId" = u.id AND (k."mintedById" IS NULL OR m."teamId" = k."teamId")),
                    '[]'::json) AS memberships
    FROM api_keys k JOIN users u ON u.id = k."userId"
    WHERE k.id = ANY(${apiKeyIds as string[]}::uuid[])`;
}

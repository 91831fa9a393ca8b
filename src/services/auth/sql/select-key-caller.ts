// A presented key on a cache miss: the key, its user, and every team the user belongs to with
// the role there (only the key's own team for a key an administrator minted), in one statement
// (one snapshot: a membership removed after it is read is caught by the signal that removal
// publishes, see authenticator.ts).
import { Prisma } from '../../../generated/prisma/client.js';
import type { Scope, TeamRole } from '../../../generated/prisma/enums.js';
import { PREPARED, type Queryable } from '../../../platform/db.js';

export interface KeyCallerRow {
  id: string;
  teamId: string;
  scopes: Scope[];
  revokedAt: Date | null;
  /** The administrator who minted it for its member (null: the member or the operator). */
  mintedById: string | null;
  userId: string;
  userName: string;
  memberships: Array<{ teamId: string; role: TeamRole }>;
}

/** The SELECT and FROM of a key caller row; each statement adds its WHERE. */
export const keyCallerSelect = Prisma.sql`
  SELECT k.id::text AS id, k."teamId"::text AS "teamId", k.scopes::text[] AS scopes,
         k."revokedAt", k."mintedById"::text AS "mintedById", u.id::text AS "userId", u.name AS "userName",
         coalesce((SELECT json_agg(json_build_object('teamId', m."teamId", 'role', m.role))
                   FROM team_members m
                   -- A key an administrator minted for the member acts in its own team only.
                   WHERE m."userId" = u.id AND (k."mintedById" IS NULL OR m."teamId" = k."teamId")),
                  '[]'::json) AS memberships
  FROM api_keys k JOIN users u ON u.id = k."userId"`;

export async function selectKeyCaller(
  client: Queryable,
  keyHash: string,
): Promise<KeyCallerRow | undefined> {
  const rows = await client.$queryRaw<KeyCallerRow[]>`${PREPARED}
    ${keyCallerSelect}
    WHERE k."keyHash" = ${keyHash}`;
  return rows[0];
}

// Takes an invitation's row lock inside the accepting transaction: two accepts of one token
// run one after the other, and the second sees the first's acceptedAt.
import type { TeamRole } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';

export interface LockedInvitation {
  id: string;
  teamId: string;
  role: TeamRole;
  accepted: boolean;
  revoked: boolean;
  /** By the database's clock. */
  expired: boolean;
}

export async function lockInvitation(
  client: Queryable,
  tokenHash: string,
): Promise<LockedInvitation | undefined> {
  const rows = await client.$queryRaw<LockedInvitation[]>`
    SELECT id::text AS id, "teamId"::text AS "teamId", role, "acceptedAt" IS NOT NULL AS accepted,
           "revokedAt" IS NOT NULL AS revoked, "expiresAt" <= now() AS expired
    FROM team_invitations WHERE "tokenHash" = ${tokenHash}
    FOR UPDATE`;
  return rows[0];
}

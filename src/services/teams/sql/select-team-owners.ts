// How many OWNERs a team has and the calling user's role there, read after the team's lock
// (lock-team.ts) so that a membership change decides on counts no other change can alter.
import type { TeamRole } from '../../../generated/prisma/enums.js';
import type { Queryable } from '../../../platform/db.js';

export interface LockedTeam {
  owners: number;
  /** The calling user's role now (null when not a member). */
  callerRole: TeamRole | null;
}

export async function selectTeamOwners(
  client: Queryable,
  teamId: string,
  callerUserId: string,
): Promise<LockedTeam | undefined> {
  const rows = await client.$queryRaw<LockedTeam[]>`
    SELECT count(*) FILTER (WHERE role = 'OWNER')::int AS owners,
           (array_agg(role::text) FILTER (WHERE "userId" = ${callerUserId}::uuid))[1] AS "callerRole"
    FROM team_members WHERE "teamId" = ${teamId}::uuid`;
  return rows[0];
}

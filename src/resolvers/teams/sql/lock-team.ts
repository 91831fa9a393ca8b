// Takes the team's row lock for a membership change, inside its transaction: changes of one
// team's members (roles, removals, leaving, transfers) run one after another, so the count of
// OWNERs each reads is still true when it commits (no two demotions of the last two owners).
// The members are read by a second statement, after the lock: under READ COMMITTED a
// statement that waited for the lock still reads with the snapshot it started with.
import type { PrismaClient } from '../../../generated/prisma/client.js';
import type { TeamRole } from '../../../generated/prisma/enums.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

export interface LockedTeam {
  owners: number;
  /** The calling user's role now (null when not a member). */
  callerRole: TeamRole | null;
}

/** undefined when there is no such team. */
export async function lockTeam(
  client: Queryable,
  teamId: string,
  callerUserId: string,
): Promise<LockedTeam | undefined> {
  const locked = await client.$queryRaw<unknown[]>`
    SELECT 1 FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
  if (!locked.length) return undefined;
  const rows = await client.$queryRaw<LockedTeam[]>`
    SELECT count(*) FILTER (WHERE role = 'OWNER')::int AS owners,
           (array_agg(role::text) FILTER (WHERE "userId" = ${callerUserId}::uuid))[1] AS "callerRole"
    FROM team_members WHERE "teamId" = ${teamId}::uuid`;
  return rows[0];
}

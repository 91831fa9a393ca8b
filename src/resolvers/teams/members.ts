// Changing a team's members: roles, removals, leaving, handing over ownership. Each runs under
// the team's row lock (sql/lock-team.ts), so the last-OWNER rule holds under concurrent
// changes. A removed (or leaving) member's keys of the team are revoked in the same
// transaction; every change then drops the member's cached keys in every API process.
import type { Prisma } from '../../generated/prisma/client.js';
import type { TeamRole } from '../../generated/prisma/enums.js';
import { inTransaction } from '../../platform/db.js';
import { BadInputError, conflict, forbidden, notFound } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { atLeast, requireAdminister } from '../auth/permissions.js';
import { requireGrantable } from './invitations.js';
import { announceMembershipChange, type MembershipDeps } from './membership-signal.js';
import { lockTeam, type LockedTeam } from './sql/lock-team.js';

type Tx = Prisma.TransactionClient;

const MEMBER_VIEW = { userId: true, role: true, joinedAt: true, user: { select: { name: true } } };

const lastOwner = () =>
  conflict('A team keeps at least one OWNER: transferTeamOwnership first', {
    reason: 'LAST_OWNER',
  });

/** The team locked, with the caller's role read under the lock (the operator: OWNER). */
async function lockForChange(tx: Tx, teamId: string, caller: Caller) {
  const team = await lockTeam(tx, teamId, caller.userId);
  if (!team) throw notFound('Team');
  const role: TeamRole | undefined = caller.isOperator ? 'OWNER' : (team.callerRole ?? undefined);
  return { team, role };
}

/** A team's administrator: the caller's cached rights first (no oracle), then the role under the lock. */
async function lockAsAdministrator(tx: Tx, teamId: string, caller: Caller) {
  requireAdminister(caller, teamId);
  const locked = await lockForChange(tx, teamId, caller);
  if (!atLeast(locked.role, 'ADMIN')) throw forbidden('You no longer administer this team');
  return locked;
}

async function requireMember(tx: Tx, teamId: string, userName: string) {
  const member = await tx.teamMember.findFirst({
    where: { teamId, user: { name: userName.trim() } },
    select: MEMBER_VIEW,
  });
  if (!member) throw notFound('Team member');
  return member;
}

/** Revokes the member's keys of the team and ends the membership. */
async function endMembership(
  tx: Tx,
  teamId: string,
  userId: string,
  team: LockedTeam,
  role: TeamRole,
) {
  if (role === 'OWNER' && team.owners <= 1) throw lastOwner();
  await tx.apiKey.updateMany({
    where: { teamId, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  await tx.teamMember.delete({ where: { teamId_userId: { teamId, userId } } });
}

export async function changeTeamMemberRole(
  teamId: string,
  userName: string,
  role: TeamRole,
  caller: Caller,
  deps: MembershipDeps,
) {
  const member = await inTransaction(async ({ client }) => {
    const { team, role: own } = await lockAsAdministrator(client, teamId, caller);
    const target = await requireMember(client, teamId, userName);
    if (target.role === 'OWNER' && own !== 'OWNER')
      throw forbidden('Only an OWNER may change an OWNER');
    requireGrantable(own, role);
    if (target.role === 'OWNER' && role !== 'OWNER' && team.owners <= 1) throw lastOwner();
    return client.teamMember.update({
      where: { teamId_userId: { teamId, userId: target.userId } },
      data: { role },
      select: MEMBER_VIEW,
    });
  });
  await announceMembershipChange(deps, [member.userId]);
  return member;
}

export async function removeTeamMember(
  teamId: string,
  userName: string,
  caller: Caller,
  deps: MembershipDeps,
): Promise<boolean> {
  const removed = await inTransaction(async ({ client }) => {
    const { team, role: own } = await lockAsAdministrator(client, teamId, caller);
    const target = await requireMember(client, teamId, userName);
    if (target.role === 'OWNER' && own !== 'OWNER')
      throw forbidden('Only an OWNER may remove an OWNER');
    await endMembership(client, teamId, target.userId, team, target.role);
    return target.userId;
  });
  await announceMembershipChange(deps, [removed]);
  return true;
}

export async function leaveTeam(
  teamId: string,
  caller: Caller,
  deps: MembershipDeps,
): Promise<boolean> {
  await inTransaction(async ({ client }) => {
    const team = await lockTeam(client, teamId, caller.userId);
    // Not a member (or no such team): nothing to leave, and nothing to tell apart.
    if (!team?.callerRole) throw notFound('Team');
    await endMembership(client, teamId, caller.userId, team, team.callerRole);
  });
  await announceMembershipChange(deps, [caller.userId]);
  return true;
}

/** The member becomes an OWNER and the calling OWNER an ADMIN. */
export async function transferTeamOwnership(
  teamId: string,
  userName: string,
  caller: Caller,
  deps: MembershipDeps,
): Promise<string> {
  const target = await inTransaction(async ({ client }) => {
    const { team, role: own } = await lockAsAdministrator(client, teamId, caller);
    if (own !== 'OWNER') throw forbidden('Only an OWNER may hand over ownership');
    const member = await requireMember(client, teamId, userName);
    if (member.userId === caller.userId)
      throw new BadInputError('user is the caller: name another member', {}, 'user');
    await client.teamMember.update({
      where: { teamId_userId: { teamId, userId: member.userId } },
      data: { role: 'OWNER' },
    });
    // The operator hands over without being a member; a member OWNER steps down to ADMIN.
    if (team.callerRole === 'OWNER')
      await client.teamMember.update({
        where: { teamId_userId: { teamId, userId: caller.userId } },
        data: { role: 'ADMIN' },
      });
    return member.userId;
  });
  await announceMembershipChange(deps, [target, caller.userId]);
  return teamId;
}

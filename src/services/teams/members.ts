// Changing a team's members: roles, removals, leaving, handing over ownership. Each runs under
// the team's row lock (sql/lock-team.ts), so the last-OWNER rule holds under concurrent
// changes. A removed (or leaving) member's keys of the team are revoked in the same
// transaction, and so is what they gave out that their new role no longer allows (keys
// minted for other members, pending invitations); every change then drops the affected
// users' cached keys in every API process.
import type { Prisma } from '../../generated/prisma/client.js';
import type { TeamRole } from '../../generated/prisma/enums.js';
import { inTransaction } from '../../platform/db.js';
import { BadInputError, conflict, forbidden, notFound } from '../../platform/errors.js';
import { requireOwnKey, type Caller } from '../auth/caller.js';
import { atLeast, requireAdminister } from '../auth/permissions.js';
import { mayGrant, requireGrantable } from './invitations.js';
import { announceMembershipChange, type MembershipDeps } from './membership-signal.js';
import { lockTeam } from './sql/lock-team.js';
import { selectTeamOwners, type LockedTeam } from './sql/select-team-owners.js';

type Tx = Prisma.TransactionClient;

const MEMBER_VIEW = { userId: true, role: true, joinedAt: true, user: { select: { name: true } } };

const lastOwner = () =>
  conflict('A team keeps at least one OWNER: transferTeamOwnership first', {
    reason: 'LAST_OWNER',
  });

/** The team's row locked, then its owners and the caller's role read (undefined: no such team). */
async function lockedTeam(
  tx: Tx,
  teamId: string,
  callerUserId: string,
): Promise<LockedTeam | undefined> {
  if (!(await lockTeam(tx, teamId))) return undefined;
  return selectTeamOwners(tx, teamId, callerUserId);
}

/** The team locked, with the caller's role read under the lock (the operator: OWNER). */
async function lockForChange(tx: Tx, teamId: string, caller: Caller) {
  const team = await lockedTeam(tx, teamId, caller.userId);
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

/**
 * What a member gave out as an administrator that their role (`role`; undefined: they left)
 * no longer allows, withdrawn: the keys they minted for other members of the team, once they
 * no longer administer it, and their pending invitations to a role they may no longer grant.
 * Returns the users whose keys were revoked (their cached keys are dropped after the commit).
 */
async function withdrawGrants(
  tx: Tx,
  teamId: string,
  userId: string,
  role: TeamRole | undefined,
): Promise<string[]> {
  const now = new Date();
  let holders: string[] = [];
  if (!atLeast(role, 'ADMIN')) {
    const keys = await tx.apiKey.updateManyAndReturn({
      where: { teamId, mintedById: userId, revokedAt: null },
      data: { revokedAt: now },
      select: { userId: true },
    });
    holders = [...new Set(keys.map((key) => key.userId))];
  }
  const grantable = (invited: TeamRole) => atLeast(role, 'ADMIN') && mayGrant(role, invited);
  const pending = await tx.teamInvitation.findMany({
    where: { teamId, createdById: userId, acceptedAt: null, revokedAt: null },
    select: { id: true, role: true },
  });
  const withdrawn = pending.filter((invitation) => !grantable(invitation.role));
  if (withdrawn.length)
    await tx.teamInvitation.updateMany({
      where: { id: { in: withdrawn.map((invitation) => invitation.id) } },
      data: { revokedAt: now },
    });
  return holders;
}

/** Revokes the member's keys of the team, and what they gave out, and ends the membership. */
async function endMembership(
  tx: Tx,
  teamId: string,
  userId: string,
  team: LockedTeam,
  role: TeamRole,
): Promise<string[]> {
  if (role === 'OWNER' && team.owners <= 1) throw lastOwner();
  await tx.apiKey.updateMany({
    where: { teamId, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  await tx.teamMember.delete({ where: { teamId_userId: { teamId, userId } } });
  return withdrawGrants(tx, teamId, userId, undefined);
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
    const changed = await client.teamMember.update({
      where: { teamId_userId: { teamId, userId: target.userId } },
      data: { role },
      select: MEMBER_VIEW,
    });
    const holders = await withdrawGrants(client, teamId, target.userId, role);
    return { changed, holders };
  });
  await announceMembershipChange(deps, [member.changed.userId, ...member.holders]);
  return member.changed;
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
    const holders = await endMembership(client, teamId, target.userId, team, target.role);
    return [target.userId, ...holders];
  });
  await announceMembershipChange(deps, removed);
  return true;
}

export async function leaveTeam(
  teamId: string,
  caller: Caller,
  deps: MembershipDeps,
): Promise<boolean> {
  requireOwnKey(caller, 'leave teams');
  const holders = await inTransaction(async ({ client }) => {
    const team = await lockedTeam(client, teamId, caller.userId);
    // Not a member (or no such team): nothing to leave, and nothing to tell apart.
    if (!team?.callerRole) throw notFound('Team');
    return endMembership(client, teamId, caller.userId, team, team.callerRole);
  });
  await announceMembershipChange(deps, [caller.userId, ...holders]);
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
    let holders: string[] = [];
    if (team.callerRole === 'OWNER') {
      await client.teamMember.update({
        where: { teamId_userId: { teamId, userId: caller.userId } },
        data: { role: 'ADMIN' },
      });
      holders = await withdrawGrants(client, teamId, caller.userId, 'ADMIN');
    }
    return [member.userId, ...holders];
  });
  await announceMembershipChange(deps, [...target, caller.userId]);
  return teamId;
}

// Invitations: a token shown once (stored as its sha256), single use, for a fixed role,
// expiring after 7 days unless asked otherwise. Only those who administer a team invite, never
// to a role above their own; only an OWNER invites an OWNER. They also withdraw a pending one.
import { createHash, randomBytes } from 'node:crypto';
import type { TeamRole } from '../../generated/prisma/enums.js';
import { db, inTransaction } from '../../platform/db.js';
import { BadInputError, conflict, forbidden, notFound } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { Caller } from '../auth/caller.js';
import { atLeast, requireAdminister, roleIn } from '../auth/permissions.js';
import { teamInvitationVisibleTo } from '../auth/visibility.js';
import { announceMembershipChange, type MembershipDeps } from './membership-signal.js';
import { lockInvitation } from './sql/lock-invitation.js';
import { announceChanges } from '../../platform/changes.js';
import { requireOwnKey } from '../auth/caller.js';

export const INVITATION_DAYS = { default: 7, min: 1, max: 30 } as const;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The operator counts as an OWNER of every team. */
const grantingRole = (caller: Caller, teamId: string): TeamRole | undefined =>
  caller.isOperator ? 'OWNER' : roleIn(caller, teamId);

/** Whether `granter` may give `role`: none above their own (OWNER, the top, by an OWNER only). */
export const mayGrant = (granter: TeamRole | undefined, role: TeamRole): boolean =>
  atLeast(granter, role);

/** FORBIDDEN unless the caller may hand out `role` in the team (mayGrant). */
export function requireGrantable(granter: TeamRole | undefined, role: TeamRole): void {
  if (mayGrant(granter, role)) return;
  throw forbidden(
    role === 'OWNER'
      ? 'Only an OWNER may make an OWNER'
      : `A role above your own (${granter}) is not yours to give`,
  );
}

function expiryDays(expiresInDays: number | null | undefined): number {
  const days = expiresInDays ?? INVITATION_DAYS.default;
  if (!Number.isInteger(days) || days < INVITATION_DAYS.min || days > INVITATION_DAYS.max) {
    throw new BadInputError(
      `expiresInDays must be ${INVITATION_DAYS.min}-${INVITATION_DAYS.max}`,
      {},
      'expiresInDays',
    );
  }
  return days;
}

export async function inviteToTeam(
  teamId: string,
  role: TeamRole,
  expiresInDays: number | null | undefined,
  caller: Caller,
) {
  const days = expiryDays(expiresInDays);
  requireAdminister(caller, teamId);
  requireGrantable(grantingRole(caller, teamId), role);
  const team = await db().team.findUnique({ where: { id: teamId }, select: { id: true } });
  if (!team) throw notFound('Team');
  const token = `agi_${randomBytes(32).toString('base64url')}`;
  const invitation = await db().teamInvitation.create({
    data: {
      teamId,
      role,
      tokenHash: hashToken(token),
      createdById: caller.userId,
      expiresAt: new Date(Date.now() + days * 86_400_000),
    },
  });
  await announceChanges({ kind: 'team.changed', teamId }); // its invitations
  return { invitation, token };
}

const refused = (reason: string, message: string) => conflict(message, { reason });

/** Joins the invitation's team with its role; returns the team's id. */
export async function acceptTeamInvitation(
  token: string,
  caller: Caller,
  deps: MembershipDeps,
): Promise<string> {
  requireOwnKey(caller, 'join teams');
  // The operator's key (ADMIN_API_KEY) reads every team already, and is no person to join one:
  // it would spend an invitation meant for someone.
  if (caller.isOperator && caller.apiKeyId === null)
    throw forbidden(
      "The operator's key cannot join teams: accept the invitation with a person's key",
    );
  const teamId = await inTransaction(async ({ client }) => {
    const invitation = await lockInvitation(client, hashToken(token.trim()));
    if (!invitation) throw notFound('Invitation');
    if (invitation.accepted)
      throw refused('INVITATION_USED', 'This invitation has been used already');
    if (invitation.revoked) throw refused('INVITATION_REVOKED', 'This invitation was withdrawn');
    if (invitation.expired) throw refused('INVITATION_EXPIRED', 'This invitation has expired');
    const joined = await client.$executeRaw`
      INSERT INTO team_members ("teamId", "userId", role)
      VALUES (${invitation.teamId}::uuid, ${caller.userId}::uuid, ${invitation.role}::"TeamRole")
      ON CONFLICT DO NOTHING`;
    // The invitation stays unused: someone else may still take it.
    if (joined === 0) throw refused('ALREADY_MEMBER', 'You are a member of this team already');
    await client.teamInvitation.update({
      where: { id: invitation.id },
      data: { acceptedAt: new Date(), acceptedById: caller.userId },
    });
    return invitation.teamId;
  });
  await announceMembershipChange(deps, [caller.userId]);
  return teamId;
}

/**
 * Withdraws a pending invitation (its token then fails with INVITATION_REVOKED). Only those who
 * see it (who administer its team) may; any other id is NOT_FOUND. Withdrawing a withdrawn or
 * expired one changes nothing and answers true; a used one is CONFLICT (INVITATION_USED).
 */
export async function revokeTeamInvitation(invitationId: string, caller: Caller): Promise<true> {
  const where = { ...rowIdWhere(invitationId), ...teamInvitationVisibleTo(caller) };
  // One statement: it waits for an accept holding the row (lockInvitation), then sees its result.
  const revoked = await db().teamInvitation.updateMany({
    where: { ...where, acceptedAt: null, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (revoked.count) {
    await announceChanges({ kind: 'team.changed' }); // its team's pending invitations
    return true;
  }
  const invitation = await db().teamInvitation.findFirst({ where, select: { acceptedAt: true } });
  if (!invitation) throw notFound('Invitation');
  if (invitation.acceptedAt)
    throw refused('INVITATION_USED', 'This invitation has been used already');
  return true;
}

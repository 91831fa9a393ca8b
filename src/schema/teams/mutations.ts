// Changing teams: creating one, inviting and accepting, roles, removing and leaving,
// handing over ownership. The rules are the services' (src/services/teams); every change of a
// member's teams reaches every API process's key cache at once.
import { builder } from '../builder.js';
import { db } from '../../platform/db.js';
import {
  acceptTeamInvitation,
  inviteToTeam,
  revokeTeamInvitation,
} from '../../services/teams/invitations.js';
import {
  changeTeamMemberRole,
  leaveTeam,
  removeTeamMember,
  transferTeamOwnership,
} from '../../services/teams/members.js';
import { createTeam } from '../../services/teams/teams.js';
import { rowIdOrNone } from '../ids.js';
import { Team, TeamInvitation, TeamMember, TeamRoleEnum } from './team.js';

const CreateTeamInput = builder.inputType('CreateTeamInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: '1-100 characters.' }),
    slug: t.string({ required: true, description: 'Unique; ^[a-z0-9-]{3,40}$.' }),
  }),
});

const TeamInvitationPayload = builder
  .objectRef<{ invitation: { id: string }; token: string }>('TeamInvitationPayload')
  .implement({
    fields: (t) => ({
      invitation: t.prismaField({
        type: TeamInvitation,
        resolve: (query, payload) =>
          db().teamInvitation.findUniqueOrThrow({ ...query, where: { id: payload.invitation.id } }),
      }),
      token: t.exposeString('token', {
        description: 'Shown once, stored only as a hash: whoever accepts it joins.',
      }),
    }),
  });

builder.mutationField('createTeam', (t) =>
  t.prismaField({
    type: Team,
    description:
      'A new team with the caller as its OWNER. A slug outside ^[a-z0-9-]{3,40}$ is ' +
      'BAD_USER_INPUT; a taken one CONFLICT.',
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateTeamInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const teamId = await createTeam(input, ctx.caller, ctx);
      return db().team.findUniqueOrThrow({ ...query, where: { id: teamId } });
    },
  }),
);

builder.mutationField('inviteToTeam', (t) =>
  t.field({
    type: TeamInvitationPayload,
    description:
      'For those who administer the team: a single-use token for a fixed role, 7 days unless ' +
      'expiresInDays (1-30) says otherwise. A role above your own is FORBIDDEN; only an ' +
      'OWNER invites an OWNER.',
    authScopes: { read: true },
    args: {
      teamId: t.arg.id({ required: true }),
      role: t.arg({ type: TeamRoleEnum, required: true }),
      expiresInDays: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      inviteToTeam(rowIdOrNone('Team', args.teamId), args.role, args.expiresInDays, ctx.caller),
  }),
);

builder.mutationField('acceptTeamInvitation', (t) =>
  t.prismaField({
    type: Team,
    description:
      "Joins the team with the invitation's role. Unknown token: NOT_FOUND; CONFLICT with " +
      'extensions.reason INVITATION_EXPIRED, INVITATION_USED, INVITATION_REVOKED or ' +
      'ALREADY_MEMBER.',
    authScopes: { read: true },
    args: { token: t.arg.string({ required: true }) },
    resolve: async (query, _root, { token }, ctx) => {
      const teamId = await acceptTeamInvitation(token, ctx.caller, ctx);
      return db().team.findUniqueOrThrow({ ...query, where: { id: teamId } });
    },
  }),
);

builder.mutationField('revokeTeamInvitation', (t) =>
  t.boolean({
    description:
      'For those who administer its team: withdraws a pending invitation, whose token then ' +
      'fails with CONFLICT (reason INVITATION_REVOKED). true also for one withdrawn or ' +
      'expired already; a used one is CONFLICT (reason INVITATION_USED); any other id ' +
      'NOT_FOUND.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      revokeTeamInvitation(rowIdOrNone('TeamInvitation', id), ctx.caller),
  }),
);

builder.mutationField('changeTeamMemberRole', (t) =>
  t.prismaField({
    type: TeamMember,
    description:
      'For those who administer the team; nobody grants a role above their own, only an ' +
      'OWNER makes or changes an OWNER, and the last OWNER is not demoted (CONFLICT, reason ' +
      'LAST_OWNER).',
    authScopes: { read: true },
    args: {
      teamId: t.arg.id({ required: true }),
      user: t.arg.string({ required: true }),
      role: t.arg({ type: TeamRoleEnum, required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const teamId = rowIdOrNone('Team', args.teamId);
      const member = await changeTeamMemberRole(teamId, args.user, args.role, ctx.caller, ctx);
      return db().teamMember.findUniqueOrThrow({
        ...query,
        where: { teamId_userId: { teamId, userId: member.userId } },
      });
    },
  }),
);

builder.mutationField('removeTeamMember', (t) =>
  t.boolean({
    description:
      "For those who administer the team (ADMINs do not remove OWNERs): revokes the member's " +
      'keys of the team and ends the membership, at once in every API process. The last ' +
      'OWNER stays (CONFLICT, reason LAST_OWNER).',
    authScopes: { read: true },
    args: { teamId: t.arg.id({ required: true }), user: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      removeTeamMember(rowIdOrNone('Team', args.teamId), args.user, ctx.caller, ctx),
  }),
);

builder.mutationField('leaveTeam', (t) =>
  t.boolean({
    description:
      "Leaves the team, revoking the caller's keys of it. The last OWNER cannot leave (CONFLICT, reason LAST_OWNER).",
    authScopes: { read: true },
    args: { teamId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => leaveTeam(rowIdOrNone('Team', args.teamId), ctx.caller, ctx),
  }),
);

builder.mutationField('transferTeamOwnership', (t) =>
  t.prismaField({
    type: Team,
    description: 'An OWNER makes another member an OWNER and becomes an ADMIN.',
    authScopes: { read: true },
    args: { teamId: t.arg.id({ required: true }), user: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const teamId = await transferTeamOwnership(
        rowIdOrNone('Team', args.teamId),
        args.user,
        ctx.caller,
        ctx,
      );
      return db().team.findUniqueOrThrow({ ...query, where: { id: teamId } });
    },
  }),
);

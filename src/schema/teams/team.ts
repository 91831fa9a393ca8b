// Teams: the Team type with its members and pending invitations, team(id), and the
// caller's view of itself (viewer). Changing teams is in mutations.ts.
import { builder } from '../builder.js';
import type { Scope } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { rowIdWhere } from '../../platform/ids.js';
import { teamInvitationVisibleTo, teamVisibleTo } from '../../services/auth/visibility.js';
import { visibleTeamWhere } from '../../services/teams/teams.js';
import { viewerRole } from '../../services/teams/viewer-roles.js';
import { rowIdOrNone } from '../ids.js';
import { ApiKey, ScopeEnum } from '../api-keys.js';
import { noRow } from '../no-row.js';
import { canRead } from '../../services/auth/permissions.js';

export const TeamRoleEnum = builder.enumType('TeamRole', {
  values: ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const,
  description:
    'VIEWER reads; MEMBER also writes; ADMIN also manages members, invitations and keys; OWNER also makes owners.',
});

export const TeamMember = builder.prismaObject('TeamMember', {
  fields: (t) => ({
    user: t.string({
      description: 'The user name (as ApiKeyPayload.user).',
      select: { user: { select: { name: true } } },
      resolve: (member) => member.user.name,
    }),
    role: t.expose('role', { type: TeamRoleEnum }),
    joinedAt: t.expose('joinedAt', { type: 'DateTime' }),
  }),
});

export const TeamInvitation = builder.prismaNode('TeamInvitation', {
  id: { field: 'id' },
  // node(id): only for those who administer its team.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [teamInvitationVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    role: t.expose('role', { type: TeamRoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
    invitedBy: t.string({
      nullable: true,
      description: 'The user name of whoever invited.',
      select: { createdBy: { select: { name: true } } },
      resolve: (invitation) => invitation.createdBy?.name ?? null,
    }),
  }),
});

export const Team = builder.prismaNode('Team', {
  id: { field: 'id' },
  // node(id) sees what team(id) sees: a team the caller is not in is null.
  nullable: true,
  findUnique: (id, ctx) => visibleTeamWhere(id, ctx.caller),
  description: 'The unit of ownership: what its members make belongs to it.',
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    personal: t.exposeBoolean('personal', {
      description: 'Made for one user on first use (createApiKey without teamId).',
    }),
    viewerRole: t.field({
      type: TeamRoleEnum,
      nullable: true,
      description: "The caller's role here; null for the operator when not a member.",
      resolve: (team, _args, ctx) => viewerRole(ctx, ctx.caller.userId, team.id),
    }),
    members: t.relation('members', {
      description: 'By role (OWNER first), then by when they joined.',
      query: { orderBy: [{ role: 'asc' }, { joinedAt: 'asc' }, { userId: 'asc' }] },
    }),
    invitations: t.relation('invitations', {
      description:
        'Pending invitations (not accepted, withdrawn or expired), newest first: for those ' +
        'who administer the team, empty for others.',
      query: (_args, ctx) => ({
        where: {
          acceptedAt: null,
          revokedAt: null,
          expiresAt: { gt: new Date() },
          ...teamInvitationVisibleTo(ctx.caller),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('team', (t) =>
  t.prismaField({
    type: Team,
    nullable: true,
    description: 'null for an unknown id and for a team the caller is not in.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      db().team.findUnique({
        ...query,
        where: visibleTeamWhere(rowIdOrNone('Team', id), ctx.caller),
      }),
  }),
);

const Viewer = builder.objectRef<{ user: string; scopes: Scope[] }>('Viewer').implement({
  fields: (t) => ({
    user: t.exposeString('user'),
    scopes: t.expose('scopes', {
      type: [ScopeEnum],
      description:
        "Effective in the key's team: the lesser of the key's scopes and the member's role " +
        'there (ADMIN implies WRITE, WRITE implies READ).',
    }),
    teams: t.prismaField({
      type: [Team],
      description: 'The teams the caller belongs to (the operator: every team), oldest first.',
      resolve: (query, _viewer, _args, ctx) =>
        db().team.findMany({
          ...query,
          where: teamVisibleTo(ctx.caller),
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
    }),
    team: t.prismaField({
      type: Team,
      description: "The key's team: what it creates belongs there (the operator's: default).",
      resolve: (query, _viewer, _args, ctx) =>
        db().team.findUniqueOrThrow({ ...query, where: { id: ctx.caller.teamId } }),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Who the presented API key belongs to, and what it may do.',
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => ({ user: ctx.caller.userName, scopes: [...ctx.caller.scopes] }),
  }),
);

builder.objectFields(ApiKey, (t) => ({
  team: t.prismaField({
    type: Team,
    nullable: true,
    description: "The key's team; null once the caller is no longer in it.",
    resolve: (query, key, _args, ctx) =>
      canRead(ctx.caller, key.teamId)
        ? db().team.findUnique({ ...query, where: { id: key.teamId } })
        : noRow(query),
  }),
}));

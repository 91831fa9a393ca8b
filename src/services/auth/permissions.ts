// What a caller may do in a team: read what belongs to any team its user belongs to, write
// where its role is MEMBER or above and its key has WRITE, administer (members, invitations,
// other members' keys) where its role is ADMIN or above and its key has ADMIN. The operator
// (the environment's ADMIN_API_KEY) may do everything everywhere.
import type { Scope, TeamRole } from '../../generated/prisma/enums.js';
import { forbidden, notFound } from '../../platform/errors.js';
import type { Caller } from './caller.js';

type Who = Pick<Caller, 'isOperator' | 'roles' | 'keyScopes'>;

const RANK: Record<TeamRole, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, OWNER: 4 };

/** What a role allows a key: VIEWER reads, MEMBER writes, ADMIN and OWNER also administer. */
const ROLE_SCOPES: Record<TeamRole, readonly Scope[]> = {
  VIEWER: ['READ'],
  MEMBER: ['READ', 'WRITE'],
  ADMIN: ['READ', 'WRITE', 'ADMIN'],
  OWNER: ['READ', 'WRITE', 'ADMIN'],
};

/** True when `role` is `least` or above it. */
export const atLeast = (role: TeamRole | undefined, least: TeamRole): boolean =>
  role !== undefined && RANK[role] >= RANK[least];

/** The lesser of (expanded) scopes and what the role allows. */
export const scopesWithin = (scopes: ReadonlySet<Scope>, role: TeamRole): Set<Scope> =>
  new Set(ROLE_SCOPES[role].filter((scope) => scopes.has(scope)));

export const roleIn = (caller: Pick<Caller, 'roles'>, teamId: string): TeamRole | undefined =>
  caller.roles.get(teamId);

export const canRead = (caller: Pick<Caller, 'isOperator' | 'roles'>, teamId: string): boolean =>
  caller.isOperator || caller.roles.has(teamId);

export const canWrite = (caller: Who, teamId: string): boolean =>
  caller.isOperator || (atLeast(roleIn(caller, teamId), 'MEMBER') && caller.keyScopes.has('WRITE'));

export const canAdminister = (caller: Who, teamId: string): boolean =>
  caller.isOperator || (atLeast(roleIn(caller, teamId), 'ADMIN') && caller.keyScopes.has('ADMIN'));

/**
 * Changing or deleting something of `teamId`: FORBIDDEN to a caller who can see it (that
 * reveals nothing), NOT_FOUND to anyone else (no existence oracle).
 */
export function requireWrite(caller: Who, teamId: string, what: string, visible?: boolean): void {
  if (canWrite(caller, teamId)) return;
  if (visible ?? canRead(caller, teamId))
    throw forbidden(`This API key may not change this ${what} (its team's role or scopes)`);
  throw notFound(what);
}

/**
 * Administering `teamId` (or `what` of it): FORBIDDEN to a member, NOT_FOUND to anyone else,
 * worded as for an unknown `what` (no existence oracle).
 */
export function requireAdminister(caller: Who, teamId: string, what = 'Team'): void {
  if (canAdminister(caller, teamId)) return;
  if (canRead(caller, teamId))
    throw forbidden('Administering this team needs its ADMIN or OWNER role and an ADMIN key');
  throw notFound(what);
}

/** The teams the caller reads; undefined for the operator (every team). */
export const readableTeamIds = (caller: Pick<Caller, 'isOperator' | 'roles'>) =>
  caller.isOperator ? undefined : [...caller.roles.keys()];

/** The teams the caller administers; undefined for the operator (every team). */
export const administeredTeamIds = (caller: Who) =>
  caller.isOperator
    ? undefined
    : [...caller.roles.keys()].filter((teamId) => canAdminister(caller, teamId));

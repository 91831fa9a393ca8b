// Teams: the unit of ownership. Creating one makes the caller its OWNER; reading one needs
// membership (the operator reads every team).
import type { Prisma } from '../../generated/prisma/client.js';
import { inTransaction } from '../../platform/db.js';
import { displayTextProblem } from '../../platform/display-text.js';
import { BadInputError, conflict, mapPrismaError, ConflictError } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { Caller } from '../auth/caller.js';
import { teamVisibleTo } from '../auth/visibility.js';
import { announceMembershipChange, type MembershipDeps } from './membership-signal.js';
import { requireOwnKey } from '../auth/caller.js';

export const TEAM_SLUG = /^[a-z0-9-]{3,40}$/;
const MAX_TEAM_NAME = 100;

export interface CreateTeamInput {
  name: string;
  slug: string;
}

function validTeamInput(input: CreateTeamInput): CreateTeamInput {
  const name = input.name.trim();
  if (!name || name.length > MAX_TEAM_NAME)
    throw new BadInputError(`name must be 1-${MAX_TEAM_NAME} characters`, {}, 'input.name');
  const problem = displayTextProblem(name);
  if (problem) throw new BadInputError(`name ${problem}`, {}, 'input.name');
  if (!TEAM_SLUG.test(input.slug)) {
    throw new BadInputError(
      'slug must be 3-40 lower-case letters, digits or hyphens',
      { pattern: TEAM_SLUG.source },
      'input.slug',
    );
  }
  return { name, slug: input.slug };
}

/** A new team with the caller as its OWNER; CONFLICT for a taken slug. */
export async function createTeam(
  input: CreateTeamInput,
  caller: Caller,
  deps: MembershipDeps,
): Promise<string> {
  requireOwnKey(caller, 'create teams');
  const { name, slug } = validTeamInput(input);
  const teamId = await inTransaction(async ({ client }) => {
    const team = await client.team.create({ data: { name, slug }, select: { id: true } });
    await client.teamMember.create({
      data: { teamId: team.id, userId: caller.userId, role: 'OWNER' },
    });
    return team.id;
  }).catch((error: unknown) => {
    if (mapPrismaError(error) instanceof ConflictError)
      throw conflict(`the slug ${slug} is taken`, { reason: 'SLUG_TAKEN' });
    throw error;
  });
  await announceMembershipChange(deps, [caller.userId]);
  return teamId;
}

/** The `where` of one team the caller may see (for team(id) and node(id)). */
export const visibleTeamWhere = (teamId: string, caller: Caller): Prisma.TeamWhereUniqueInput => ({
  ...rowIdWhere(teamId),
  AND: [teamVisibleTo(caller)],
});

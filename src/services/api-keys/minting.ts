// Who may mint which key, for whom, in which team (createApiKey's rules):
// - the operator mints for anyone into any team (creating the user on first minting);
// - a member mints for themselves in a team they belong to, up to their role there and never
//   above the calling key's own scopes; without a team, into their personal team;
// - a team's administrators also mint for its other members, up to the member's role and
//   their own, and only for members whose role is not above their own (an ADMIN mints no key
//   for an OWNER), READ or WRITE only. Such a key acts in that team only (api_keys."mintedById"),
//   mints no keys itself, and is revoked when its minter stops administering the team
//   (members.ts). Asking for more is FORBIDDEN.
// The target's membership is checked inside the minting transaction (api-keys.ts).
import type { Scope, TeamRole } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { BadInputError, forbidden, notFound } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import { requireOwnKey, type Caller } from '../auth/caller.js';
import { atLeast, canAdminister, canRead, roleIn, scopesWithin } from '../auth/permissions.js';
import { findUserByName } from '../auth/users.js';

export interface MintingPlan {
  /** The user, when known before the transaction (the operator's new users are made in it). */
  user: { id: string; name: string } | undefined;
  userName: string;
  /** null: the user's personal team. */
  teamId: string | null;
  /** The administrator minting for another member (the key is confined to the team). */
  mintedById?: string;
  /** Throws FORBIDDEN when the scopes asked for exceed what the target's role there allows. */
  check(targetRole: TeamRole): void;
}

function requireWithin(wanted: ReadonlySet<Scope>, allowed: ReadonlySet<Scope>): void {
  const over = [...wanted].filter((scope) => !allowed.has(scope));
  if (over.length)
    throw forbidden(`Scopes above what the role and the calling key allow: ${over.join(', ')}`);
}

async function operatorPlan(userName: string, teamId: string | null): Promise<MintingPlan> {
  if (teamId !== null) {
    const team = isUuid(teamId)
      ? await db().team.findUnique({ where: { id: teamId }, select: { id: true } })
      : null;
    if (!team) throw notFound('Team');
  }
  return { user: undefined, userName, teamId, check: () => {} };
}

export async function mintingPlan(
  caller: Caller,
  userName: string,
  wanted: ReadonlySet<Scope>,
  teamId: string | null,
): Promise<MintingPlan> {
  if (caller.isOperator) return operatorPlan(userName, teamId);
  // Else a key an administrator minted would mint its member a key of their own, for every team.
  requireOwnKey(caller, 'mint keys');
  const self = userName === caller.userName;
  if (teamId === null) {
    if (!self) throw forbidden('Only the operator mints into another user’s personal team');
    const user = { id: caller.userId, name: caller.userName };
    return {
      user,
      userName,
      teamId,
      check: (role) => requireWithin(wanted, scopesWithin(caller.keyScopes, role)),
    };
  }
  if (!canRead(caller, teamId)) throw notFound('Team');
  const own = scopesWithin(caller.keyScopes, roleIn(caller, teamId)!);
  if (self) {
    const user = { id: caller.userId, name: caller.userName };
    return {
      user,
      userName,
      teamId,
      check: (role) => requireWithin(wanted, scopesWithin(own, role)),
    };
  }
  if (!canAdminister(caller, teamId))
    throw forbidden(
      'Minting for another member needs the team’s ADMIN or OWNER role and an ADMIN key',
    );
  // Administering stays with the members' own keys: a key minted for them that could invite,
  // mint or change members would keep its minter's powers after they lost them.
  if (wanted.has('ADMIN'))
    throw forbidden('A key for another member is READ or WRITE: ADMIN keys are their own to mint');
  const user = await findUserByName(userName);
  if (!user) throw new BadInputError(`${userName} is not a member of the team`, {}, 'input.user');
  const minterRole = roleIn(caller, teamId);
  return {
    user,
    userName,
    teamId,
    mintedById: caller.userId,
    check: (role) => {
      // Acting as a member of a higher role would be that role: an ADMIN's key for an OWNER.
      if (!atLeast(minterRole, role))
        throw forbidden(`Minting for a member above your own role (${minterRole}) is not yours`);
      requireWithin(wanted, scopesWithin(own, role));
    },
  };
}

// API keys: shown once, stored as sha256 hashes. A key belongs to one team and one member of
// it; what it may do is the lesser of its scopes and the member's role there. Members mint
// keys for themselves, a team's administrators also for its other members, the operator for
// anyone. A revocation reaches every API process (see authenticator.ts).
import { randomBytes } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Scope } from '../../generated/prisma/enums.js';
import { db, inTransaction } from '../../platform/db.js';
import { displayTextProblem } from '../../platform/display-text.js';
import { BadInputError, badUserInput, forbidden, notFound } from '../../platform/errors.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { PubSub } from '../../platform/pubsub.js';
import { ensurePersonalTeam, joinDefaultTeam } from '../teams/personal-team.js';
import { effectiveScopes, hashApiKey, type Caller } from '../auth/caller.js';
import { mintingPlan, type MintingPlan } from './minting.js';
import { ensureUser } from '../auth/users.js';
import { apiKeyVisibleTo } from '../auth/visibility.js';
import { announceChanges } from '../../platform/changes.js';
import { atLeast, roleIn } from '../auth/permissions.js';

export interface CreateApiKeyInput {
  user: string;
  name: string;
  scopes: Scope[];
  /** A row id; none: the user's personal team (made on first use). */
  teamId?: string | null;
}

export interface KeySettings {
  /** Every user joins the `default` team as a MEMBER when their first key is minted. */
  autoJoinDefaultTeam: boolean;
}

/** What a key's viewers see of it: never the key or its hash. */
const API_KEY_VIEW = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  teamId: true,
  user: { select: { name: true } },
} as const;

export type ApiKeyView = Prisma.ApiKeyGetPayload<{ select: typeof API_KEY_VIEW }>;

function generateApiKey(): string {
  return `agk_${randomBytes(32).toString('base64url')}`;
}

function validInput(input: CreateApiKeyInput) {
  const user = input.user.trim();
  const name = input.name.trim();
  if (!user || user.length > 100)
    throw badUserInput('user must be 1-100 characters', { field: 'user' });
  // Invisible characters (zero-width, bidi controls) would make a name that reads as another.
  if (/[\p{C}\p{Default_Ignorable_Code_Point}\u2800]/u.test(user))
    throw badUserInput('user must not contain control or invisible characters', {
      field: 'user',
    });
  if (!name || name.length > 100)
    throw badUserInput('name must be 1-100 characters', { field: 'input.name' });
  const problem = displayTextProblem(name);
  if (problem) throw badUserInput(`name ${problem}`, { field: 'input.name' });
  if (input.scopes.length === 0)
    throw badUserInput('scopes must not be empty', { field: 'input.scopes' });
  return { user, name, scopes: [...new Set(input.scopes)] };
}

/** Inserts the key (and the user's first memberships) as the plan says. */
async function insertKey(plan: MintingPlan, name: string, scopes: Scope[], settings: KeySettings) {
  const key = generateApiKey();
  const apiKey = await inTransaction(async ({ client }) => {
    const user = plan.user ?? (await ensureUser(plan.userName, client));
    const firstKey = (await client.apiKey.count({ where: { userId: user.id } })) === 0;
    if (firstKey && settings.autoJoinDefaultTeam) await joinDefaultTeam(client, user.id);
    const teamId = plan.teamId ?? (await ensurePersonalTeam(client, user));
    const member = await client.teamMember.findUnique({
      where: { teamId_userId: { teamId, userId: user.id } },
      select: { role: true },
    });
    if (!member)
      throw new BadInputError(`${user.name} is not a member of the team`, {}, 'input.user');
    plan.check(member.role);
    return client.apiKey.create({
      data: {
        userId: user.id,
        teamId,
        name,
        scopes,
        keyHash: hashApiKey(key),
        prefix: key.slice(0, 10),
        mintedById: plan.mintedById ?? null,
      },
      select: API_KEY_VIEW,
    });
  });
  return { key, apiKey };
}

/** Mints a key; the key is returned once, never stored. */
export async function createApiKey(
  input: CreateApiKeyInput,
  caller: Caller,
  settings: KeySettings,
) {
  const { user, name, scopes } = validInput(input);
  const plan = await mintingPlan(caller, user, effectiveScopes(scopes), input.teamId ?? null);
  const { key, apiKey } = await insertKey(plan, name, scopes, settings);
  // A user's first key may have made them a member (of default, of a personal team).
  await announceChanges({ kind: 'team.changed' });
  return { key, user: apiKey.user.name, scopes, apiKey };
}

/** Newest first, at most 1,000 (keys are few: one per user, team and purpose). */
export function listApiKeys(
  filter: { user?: string | null; teamId?: string | null },
  caller: Caller,
) {
  return db().apiKey.findMany({
    where: {
      AND: [
        apiKeyVisibleTo(caller),
        filter.user ? { user: { name: filter.user.trim() } } : {},
        filter.teamId ? { teamId: rowIdWhere(filter.teamId).id } : {},
      ],
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: 1_000,
    select: API_KEY_VIEW,
  });
}

export interface RevokeDeps {
  pubsub: PubSub;
  /** This process's key cache, which drops the key at once (the others on the signal). */
  apiKeys: { forget(apiKeyId: string): void };
}

/**
 * Revokes a key (the caller's own, one of a team it administers held by a member not above
 * the caller's role there, or any for the operator):
 * this process drops it from its cache at once, the others when the `apiKeyRevoked` signal
 * reaches them (or, with pub/sub away, when their cache entry expires). Revoking a revoked key
 * changes nothing and answers the same.
 */
export async function revokeApiKey(
  apiKeyId: string,
  caller: Caller,
  { pubsub, apiKeys }: RevokeDeps,
) {
  const { id } = rowIdWhere(apiKeyId);
  const where = { AND: [{ id }, apiKeyVisibleTo(caller)] };
  const seen = await db().apiKey.findFirst({ where, select: { userId: true, teamId: true } });
  if (!seen) throw notFound('API key');
  // Another member's key: as with removing them, only from a role not below theirs (an ADMIN
  // revokes no OWNER's key).
  if (!caller.isOperator && seen.userId !== caller.userId) {
    const holder = await db().teamMember.findUnique({
      where: { teamId_userId: { teamId: seen.teamId, userId: seen.userId } },
      select: { role: true },
    });
    if (holder && !atLeast(roleIn(caller, seen.teamId), holder.role))
      throw forbidden(`Only an ${holder.role} or above may revoke an ${holder.role}'s key`);
  }
  await db().apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  const key = await db().apiKey.findUnique({ where: { id }, select: API_KEY_VIEW });
  if (!key) throw notFound('API key');
  apiKeys.forget(id);
  await pubsub.publish('apiKeyRevoked', 'all', { apiKeyId: id });
  return key;
}

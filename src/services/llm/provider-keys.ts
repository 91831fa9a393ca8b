// The key vault's service: provider keys are written, rotated, revoked and
// rewrapped here, and never read back: callers see a hint, a fingerprint and dates. Each
// change appends its audit row in the same transaction; decrypts are audited with the call
// they served (metering.ts). A team's keys are its administrators' to change; the
// operator's (teamId null) the operator's.
import { randomUUID } from 'node:crypto';
import type { LlmProviderKind } from '../../generated/prisma/enums.js';
import { announceLlmConfigChanged } from '../../llm/catalog.js';
import { auditKey } from '../../llm/key-audit.js';
import { db, inTransaction } from '../../platform/db.js';
import { displayTextProblem } from '../../platform/display-text.js';
import { BadInputError, notFound } from '../../platform/errors.js';
import type { PubSub } from '../../platform/pubsub.js';
import {
  fingerprintOf,
  hintOf,
  sealSecret,
  secretBinding,
  type Keyring,
} from '../../platform/vault.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds, requireAdminister } from '../auth/permissions.js';

export interface VaultDeps {
  keyring: Keyring;
  pubsub: PubSub;
}

export interface AddProviderKeyInput {
  /** Row id; unset: the caller's team (the operator: the operator's own keys). */
  teamId?: string | null;
  kind: LlmProviderKind;
  name: string;
  secret: string;
  expiresAt?: Date | null;
}

export const SECRET_MAX_BYTES = 4_096;

export const PROVIDER_KEY_VIEW = {
  id: true,
  teamId: true,
  name: true,
  kind: true,
  hint: true,
  fingerprint: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
  rejectedAt: true,
  createdAt: true,
  rotatedAt: true,
  masterKeyVersion: true,
} as const;

// Cc: C0 controls, DEL and C1 controls. No provider key holds one, and a line break or DEL
// cannot go in an HTTP header (RFC 9110 §5.5): every call would fail. NUL: input-bounds.ts.
const CONTROL_CHARACTER = /\p{Cc}/u;
// Nor can a character past U+00FF (fetch sends a header's value as bytes, one per character).
const BEYOND_HEADER_BYTES = /[^\p{Cc}\u0020-\u00ff]/u;

function checkSecret(secret: string, argument: string): void {
  if (secret.trim().length === 0)
    throw new BadInputError(`${argument} must not be empty`, {}, argument);
  // An HTTP header's value drops them: the provider would be sent another key than the one stored.
  if (secret.trim() !== secret)
    throw new BadInputError(`${argument} must not start or end with a space`, {}, argument);
  if (CONTROL_CHARACTER.test(secret))
    throw new BadInputError(
      `${argument} must not contain a control character (a line break, a tab, …)`,
      {},
      argument,
    );
  if (BEYOND_HEADER_BYTES.test(secret))
    throw new BadInputError(
      `${argument} must be characters an HTTP header carries (none past U+00FF)`,
      {},
      argument,
    );
  if (Buffer.byteLength(secret, 'utf8') > SECRET_MAX_BYTES)
    throw new BadInputError(`${argument} must be at most ${SECRET_MAX_BYTES} bytes`, {}, argument);
}

function checkExpiry(expiresAt: Date | null | undefined): void {
  if (expiresAt && expiresAt.getTime() <= Date.now())
    throw new BadInputError('expiresAt must be in the future', {}, 'expiresAt');
}

/** The owner a caller may write keys (and deployments, routes) for: a team it administers, or the operator's null. */
export function ownerFor(caller: Caller, teamId: string | null | undefined): string | null {
  if (caller.isOperator && !teamId) return null;
  const team = teamId ?? caller.teamId;
  requireAdminister(caller, team);
  return team;
}

/** A key the caller may change, or NOT_FOUND (another team's, the operator's, unknown). */
async function requireOwnKey(id: string, caller: Caller) {
  const key = await db().providerKey.findUnique({ where: { id } });
  if (!key) throw notFound('ProviderKey');
  if (key.teamId === null) {
    if (!caller.isOperator) throw notFound('ProviderKey');
  } else requireAdminister(caller, key.teamId, 'ProviderKey');
  return key;
}

export async function addProviderKey(input: AddProviderKeyInput, caller: Caller, deps: VaultDeps) {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw new BadInputError('name must be 1-100 characters', {}, 'name');
  const nameProblem = displayTextProblem(name);
  if (nameProblem) throw new BadInputError(`name ${nameProblem}`, {}, 'name');
  if (input.kind === 'LOCAL') throw new BadInputError('kind: LOCAL needs no key', {}, 'kind');
  checkSecret(input.secret, 'secret');
  checkExpiry(input.expiresAt);
  const teamId = ownerFor(caller, input.teamId);
  const id = randomUUID();
  const sealed = sealSecret(deps.keyring, input.secret, secretBinding(teamId, id));
  const key = await inTransaction(async ({ client }) => {
    const row = await client.providerKey.create({
      data: {
        id,
        teamId,
        name,
        kind: input.kind,
        hint: hintOf(input.secret),
        fingerprint: fingerprintOf(input.secret),
        ...sealed,
        expiresAt: input.expiresAt ?? null,
        createdById: caller.userId,
      },
      select: PROVIDER_KEY_VIEW,
    });
    await auditKey(client, { id, teamId }, 'CREATE', caller);
    return row;
  });
  await announceLlmConfigChanged(deps.pubsub, teamId);
  return key;
}

/** A new secret for the same key (its deployments keep it); a rejected key is usable again. */
export async function rotateProviderKey(
  id: string,
  secret: string,
  caller: Caller,
  deps: VaultDeps,
  expiresAt?: Date | null,
) {
  checkSecret(secret, 'secret');
  checkExpiry(expiresAt);
  const key = await requireOwnKey(id, caller);
  if (key.revokedAt) throw new BadInputError('a revoked key cannot be rotated', {}, 'id');
  const sealed = sealSecret(deps.keyring, secret, secretBinding(key.teamId, key.id));
  const row = await inTransaction(async ({ client }) => {
    const updated = await client.providerKey.update({
      where: { id },
      data: {
        ...sealed,
        hint: hintOf(secret),
        fingerprint: fingerprintOf(secret),
        rejectedAt: null,
        rotatedAt: new Date(),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
      select: PROVIDER_KEY_VIEW,
    });
    await auditKey(client, key, 'ROTATE', caller);
    return updated;
  });
  await announceLlmConfigChanged(deps.pubsub, key.teamId);
  return row;
}

export async function revokeProviderKey(
  id: string,
  caller: Caller,
  deps: Pick<VaultDeps, 'pubsub'>,
) {
  const key = await requireOwnKey(id, caller);
  const row = await inTransaction(async ({ client }) => {
    const updated = await client.providerKey.update({
      where: { id },
      data: { revokedAt: key.revokedAt ?? new Date() },
      select: PROVIDER_KEY_VIEW,
    });
    if (!key.revokedAt) await auditKey(client, key, 'REVOKE', caller);
    return updated;
  });
  await announceLlmConfigChanged(deps.pubsub, key.teamId);
  return row;
}

/** The keys of the caller's teams (the operator: every key, its own included), newest first. */
export function listProviderKeys(caller: Caller) {
  const teams = readableTeamIds(caller);
  return db().providerKey.findMany({
    where: teams ? { teamId: { in: teams } } : {},
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: PROVIDER_KEY_VIEW,
    take: 1_000,
  });
}

// API keys: minted by admins for users, shown once, stored as sha256 hashes; listed and
// revoked by admins. A revocation reaches every API process (see authenticator.ts).
import { randomBytes } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Scope } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { badUserInput, notFound } from '../../platform/errors.js';
import { parseGlobalId } from '../../platform/ids.js';
import type { PubSub } from '../../platform/pubsub.js';
import { hashApiKey, type Caller } from './caller.js';
import { apiKeyVisibleTo } from './visibility.js';
import { ensureUser } from './users.js';

export interface CreateApiKeyInput {
  user: string;
  name: string;
  scopes: Scope[];
}

/** What an admin sees of a key: never the key or its hash. */
const API_KEY_VIEW = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  user: { select: { name: true } },
} as const;

export type ApiKeyView = Prisma.ApiKeyGetPayload<{ select: typeof API_KEY_VIEW }>;

function generateApiKey(): string {
  return `agk_${randomBytes(32).toString('base64url')}`;
}

/** Mints a key for a user (created on first minting). The key is returned once, never stored. */
export async function createApiKey(input: CreateApiKeyInput) {
  const user = input.user.trim();
  const name = input.name.trim();
  if (!user || user.length > 100) throw badUserInput('user must be 1-100 characters');
  if (!name || name.length > 100) throw badUserInput('name must be 1-100 characters');
  if (input.scopes.length === 0) throw badUserInput('scopes must not be empty');
  const scopes = [...new Set(input.scopes)];
  const key = generateApiKey();
  const owner = await ensureUser(user);
  const apiKey = await db().apiKey.create({
    data: { userId: owner.id, name, scopes, keyHash: hashApiKey(key), prefix: key.slice(0, 10) },
    select: API_KEY_VIEW,
  });
  return { key, user: owner.name, scopes, apiKey };
}

/** Newest first, at most 1,000 (keys are few: one per user and purpose). */
export function listApiKeys(user: string | null | undefined, caller: Caller) {
  return db().apiKey.findMany({
    where: { ...apiKeyVisibleTo(caller), ...(user ? { user: { name: user.trim() } } : {}) },
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
 * Revokes a key: this process drops it from its cache at once, the others when the
 * `apiKeyRevoked` signal reaches them (or, with pub/sub away, when their cache entry expires).
 * Revoking a revoked key changes nothing and answers the same.
 */
export async function revokeApiKey(
  globalId: string,
  caller: Caller,
  { pubsub, apiKeys }: RevokeDeps,
) {
  const id = parseGlobalId('ApiKey', globalId);
  if (!id || !(await db().apiKey.count({ where: { id, ...apiKeyVisibleTo(caller) } })))
    throw notFound('API key');
  await db().apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  const key = await db().apiKey.findUnique({ where: { id }, select: API_KEY_VIEW });
  if (!key) throw notFound('API key');
  apiKeys.forget(id);
  await pubsub.publish('apiKeyRevoked', 'all', { apiKeyId: id });
  return key;
}

// API keys: minted by admins, stored as sha256 hashes, presented as Bearer or X-API-Key.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { db } from '../db.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Scope } from '../generated/prisma/enums.js';
import { badUserInput, notFound } from '../errors.js';
import { logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import { parseGlobalId } from './ids.js';

export interface Caller {
  userId: string;
  userName: string;
  /** null for the ADMIN_API_KEY from the environment. */
  apiKeyId: string | null;
  scopes: ReadonlySet<Scope>;
}

const ALL_SCOPES: readonly Scope[] = ['READ', 'WRITE', 'ADMIN'];
export const ENV_ADMIN_USER = 'admin';

/** The key itself, from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function apiKeyFromHeaders(headers: Headers): string | undefined {
  const authorization = headers.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return headers.get('x-api-key')?.trim() || undefined;
}

/** Random 32-byte keys: a fast hash is enough (no password stretching needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function generateApiKey(): string {
  return `agk_${randomBytes(32).toString('base64url')}`;
}

function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** ADMIN grants WRITE and READ; WRITE grants READ. */
function effectiveScopes(scopes: readonly Scope[]): Set<Scope> {
  const result = new Set(scopes);
  if (result.has('ADMIN')) result.add('WRITE');
  if (result.has('WRITE')) result.add('READ');
  return result;
}

async function ensureUser(name: string) {
  return db().user.upsert({ where: { name }, create: { name }, update: {}, select: { id: true, name: true } });
}

let envAdminUserId: Promise<string> | undefined;

/**
 * Recently seen keys, so a request costs no key lookup: a revoked key stops working
 * within KEY_CACHE_TTL_MS. Hand-written (a Map with expiry) rather than a dependency.
 */
const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;
const keyCache = new Map<string, { caller: Caller | undefined; expires: number }>();
/**
 * Counts keys dropped from the cache. A lookup that overlapped a drop does not cache what
 * it read: it may have read a key row from before that key's revocation.
 */
let keysDropped = 0;

/** The caller a key belongs to, or undefined for a missing, unknown or revoked key. */
export async function authenticateApiKey(key: string | undefined, adminApiKey: string | undefined): Promise<Caller | undefined> {
  if (!key) return undefined;
  if (adminApiKey && sameSecret(key, adminApiKey)) {
    envAdminUserId ??= ensureUser(ENV_ADMIN_USER).then((user) => user.id);
    return { userId: await envAdminUserId, userName: ENV_ADMIN_USER, apiKeyId: null, scopes: new Set(ALL_SCOPES) };
  }
  const keyHash = hashApiKey(key);
  const cached = keyCache.get(keyHash);
  if (cached && cached.expires > Date.now()) return cached.caller;
  const droppedBefore = keysDropped;
  const found = await db().apiKey.findUnique({
    where: { keyHash },
    select: { id: true, scopes: true, revokedAt: true, user: { select: { id: true, name: true } } },
  });
  const caller =
    !found || found.revokedAt
      ? undefined
      : { userId: found.user.id, userName: found.user.name, apiKeyId: found.id, scopes: effectiveScopes(found.scopes) };
  if (caller) recordKeyUse(caller.apiKeyId!);
  if (keysDropped === droppedBefore) {
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(keyHash, { caller, expires: Date.now() + KEY_CACHE_TTL_MS });
  }
  return caller;
}

export interface CreateApiKeyInput {
  user: string;
  name: string;
  scopes: Scope[];
}

/**
 * lastUsedAt, to the minute: written on a cache miss (at most every KEY_CACHE_TTL_MS per key
 * and process) and only when a minute has passed, so busy keys cost no write per request.
 * Not awaited: a failed write loses a timestamp, not a request.
 */
function recordKeyUse(apiKeyId: string): void {
  db()
    .$executeRaw`UPDATE api_keys SET "lastUsedAt" = now() WHERE id = ${apiKeyId}::uuid AND ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - interval '1 minute')`
    .catch((error: unknown) => logger.warn({ err: error }, 'could not record an API key use'));
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

/** Newest first, at most 1,000 (keys are few: one per user and purpose). */
export function listApiKeys(user: string | null | undefined) {
  return db().apiKey.findMany({
    where: user ? { user: { name: user.trim() } } : {},
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: 1_000,
    select: API_KEY_VIEW,
  });
}

/**
 * Revokes a key: this process drops it from its cache at once, the others when the
 * `apiKeyRevoked` signal reaches them (or, with pub/sub away, when their cache entry expires
 * after KEY_CACHE_TTL_MS). Revoking a revoked key changes nothing and answers the same.
 */
export async function revokeApiKey(globalId: string, pubsub: PubSub) {
  const id = parseGlobalId('ApiKey', globalId);
  if (!id) throw notFound('API key');
  await db().apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  const key = await db().apiKey.findUnique({ where: { id }, select: API_KEY_VIEW });
  if (!key) throw notFound('API key');
  forgetApiKey(id);
  await pubsub.publish('apiKeyRevoked', 'all', { apiKeyId: id });
  return key;
}

/** Drops a key from this process's cache, so its next request reads the key row again. */
function forgetApiKey(apiKeyId: string): void {
  keysDropped++;
  for (const [hash, entry] of keyCache) if (entry.caller?.apiKeyId === apiKeyId) keyCache.delete(hash);
}

/** Until `return()`: drops every key another process announces as revoked. */
export function followRevokedApiKeys(pubsub: PubSub): { return(): void } {
  const revoked = pubsub.subscribe('apiKeyRevoked', 'all');
  (async () => {
    for await (const { apiKeyId } of revoked) forgetApiKey(apiKeyId);
  })().catch((error: unknown) => logger.warn({ err: error }, 'revoked-key signal stopped; the cache TTL still applies'));
  revoked.ready.catch(() => {}); // Redis away: the cache's TTL still bounds a revoked key's life
  return { return: () => void revoked.return?.() };
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

/** Test and shutdown hook: forget the cached admin user id (a new database may be in use). */
export function resetAuthCache(): void {
  envAdminUserId = undefined;
  keyCache.clear();
}

// Turning a presented key into a Caller, for one API process. Recently seen keys are cached,
// so a request costs no key lookup. A revoked key, and every key of a user whose memberships
// changed (removed, role lowered, left, joined), is dropped from every process's cache by the
// `apiKeyRevoked` signal, and within KEY_CACHE_TTL_MS when pub/sub is down. Open streams are
// told of each drop (onChange) and read their keys again (src/http/live/stream-guard.ts).
// Hand-written (a Map with expiry) rather than a dependency.
import { createHash, timingSafeEqual } from 'node:crypto';
import { db } from '../../platform/db.js';
import { isUuid } from '../../platform/ids.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import { defaultTeamId } from './default-team.js';
import {
  effectiveScopes,
  ENV_ADMIN_USER,
  hashApiKey,
  operatorCaller,
  type Caller,
} from './caller.js';
import { scopesWithin } from './permissions.js';
import { selectKeyCaller, type KeyCallerRow } from './sql/select-key-caller.js';
import { selectKeyCallersById } from './sql/select-key-callers-by-id.js';
import { ensureUser } from './users.js';

/** How long a process may go on trusting a key it has not heard about (the bound without pub/sub). */
export const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

/**
 * The caller of a key row; undefined for a revoked key, and for a key whose user is no longer
 * a member of the key's team (whatever its revokedAt says).
 */
export function callerOfKey(found: KeyCallerRow): Caller | undefined {
  if (found.revokedAt) return undefined;
  const roles = new Map(found.memberships.map((m) => [m.teamId, m.role]));
  const role = roles.get(found.teamId);
  if (!role) return undefined;
  const keyScopes = effectiveScopes(found.scopes);
  return {
    userId: found.userId,
    userName: found.userName,
    apiKeyId: found.id,
    teamId: found.teamId,
    isOperator: false,
    delegated: found.mintedById !== null,
    roles,
    keyScopes,
    scopes: scopesWithin(keyScopes, role),
  };
}

/** What the `apiKeyRevoked` signal says: one key revoked, or one user's memberships changed. */
export type KeyChange = { apiKeyId: string } | { userId: string };

interface CacheEntry {
  caller: Caller | undefined;
  /** Whose key it is (also for a refused one, so a membership change drops it too). */
  userId: string | undefined;
  apiKeyId: string | undefined;
  expires: number;
}

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * Counts drops from the cache. A lookup that overlapped a drop does not cache what it read:
   * it may have read a key or membership from before that change.
   */
  private dropped = 0;
  private operator: Promise<Caller> | undefined;
  private revocations: AsyncIterator<unknown> | undefined;
  private readonly changeListeners = new Set<(change: KeyChange) => void>();

  /** `adminApiKey`: the environment's key, the operator's. */
  constructor(private readonly adminApiKey: string | undefined) {}

  /** The caller a key belongs to, or undefined for a missing, unknown, revoked or orphaned key. */
  async authenticate(key: string | undefined): Promise<Caller | undefined> {
    if (!key) return undefined;
    if (this.adminApiKey && sameSecret(key, this.adminApiKey)) return this.envAdmin();
    const keyHash = hashApiKey(key);
    const cached = this.cache.get(keyHash);
    if (cached && cached.expires > Date.now()) return cached.caller;
    const droppedBefore = this.dropped;
    const found = await selectKeyCaller(db(), keyHash);
    const caller = found ? callerOfKey(found) : undefined;
    if (caller) recordKeyUse(caller.apiKeyId!);
    if (this.dropped === droppedBefore) {
      if (this.cache.size >= KEY_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(keyHash, {
        caller,
        userId: found?.userId,
        apiKeyId: found?.id,
        expires: Date.now() + KEY_CACHE_TTL_MS,
      });
    }
    return caller;
  }

  /** Drops a key from the cache, so its next request reads the key row again. */
  forget(apiKeyId: string): void {
    this.dropped++;
    for (const [hash, entry] of this.cache)
      if (entry.apiKeyId === apiKeyId) this.cache.delete(hash);
    this.changed({ apiKeyId });
  }

  /** Drops every key of a user whose memberships changed. */
  forgetUser(userId: string): void {
    this.dropped++;
    for (const [hash, entry] of this.cache) if (entry.userId === userId) this.cache.delete(hash);
    this.changed({ userId });
  }

  /** Calls `listener` with every key or user this process drops (here, or by the signal). */
  onChange(listener: (change: KeyChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * What each key may do now, read from the database rather than the cache (for streams
   * opened earlier): undefined for a key that would be refused.
   */
  async currentCallers(apiKeyIds: readonly string[]): Promise<Map<string, Caller | undefined>> {
    const rows = apiKeyIds.length ? await selectKeyCallersById(db(), apiKeyIds) : [];
    const found = new Map(rows.map((row) => [row.id, callerOfKey(row)]));
    return new Map(apiKeyIds.map((id) => [id, found.get(id)]));
  }

  /**
   * A fingerprint of the environment's ADMIN_API_KEY ('' without one): what the operator's
   * signed download links are bound to, so that rotating the key ends them.
   */
  operatorFingerprint(): string {
    this.fingerprint ??= this.adminApiKey
      ? createHash('sha256').update(`operator-links|${this.adminApiKey}`).digest('base64url')
      : '';
    return this.fingerprint;
  }

  private fingerprint: string | undefined;

  /**
   * What a key may do now, read from the database (for a signed download link): null is the
   * environment's ADMIN_API_KEY, while one is set; undefined for a key that would be refused.
   */
  async currentCaller(apiKeyId: string | null): Promise<Caller | undefined> {
    if (apiKeyId === null) return this.adminApiKey ? this.envAdmin() : undefined;
    if (!isUuid(apiKeyId)) return undefined;
    return (await this.currentCallers([apiKeyId])).get(apiKeyId);
  }

  /** Until close(): drops every key (or user) another process announces. */
  followRevocations(pubsub: PubSub): void {
    const revoked = pubsub.subscribe('apiKeyRevoked', 'all');
    this.revocations = revoked;
    (async () => {
      for await (const signal of revoked) {
        if ('apiKeyId' in signal) this.forget(signal.apiKeyId);
        else this.forgetUser(signal.userId);
      }
    })().catch((error: unknown) =>
      logger.warn({ err: error }, 'revoked-key signal stopped; the cache TTL still applies'),
    );
    revoked.ready.catch(() => {}); // Redis away: the cache's TTL still bounds a revoked key's life
  }

  close(): void {
    void this.revocations?.return?.();
    this.cache.clear();
    this.changeListeners.clear();
  }

  private changed(change: KeyChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'a key change listener failed');
      }
    }
  }

  private envAdmin(): Promise<Caller> {
    this.operator ??= Promise.all([ensureUser(ENV_ADMIN_USER), defaultTeamId()]).then(
      ([user, teamId]) => operatorCaller(user, teamId),
    );
    // A failed first lookup (the database away) is tried again on the next request.
    this.operator.catch(() => (this.operator = undefined));
    return this.operator;
  }
}

/**
 * lastUsedAt, to the minute: written on a cache miss (at most every KEY_CACHE_TTL_MS per key
 * and process) and only when a minute has passed, so busy keys cost no write per request.
 * Not awaited: a failed write loses a timestamp, not a request.
 */
function recordKeyUse(apiKeyId: string): void {
  db().$executeRaw`
    UPDATE api_keys SET "lastUsedAt" = now()
    WHERE id = ${apiKeyId}::uuid AND ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - interval '1 minute')`.catch(
    (error: unknown) => logger.warn({ err: error }, 'could not record an API key use'),
  );
}

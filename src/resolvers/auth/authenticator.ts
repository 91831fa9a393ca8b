// Turning a presented key into a Caller, for one API process. Recently seen keys are cached,
// so a request costs no key lookup; a revoked key is dropped from every process's cache by
// the `apiKeyRevoked` signal, and within KEY_CACHE_TTL_MS when pub/sub is down.
// Hand-written (a Map with expiry) rather than a dependency.
import { createHash, timingSafeEqual } from 'node:crypto';
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import { ALL_SCOPES, effectiveScopes, ENV_ADMIN_USER, hashApiKey, type Caller } from './caller.js';
import { ensureUser } from './users.js';

const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { caller: Caller | undefined; expires: number }>();
  /**
   * Counts keys dropped from the cache. A lookup that overlapped a drop does not cache what
   * it read: it may have read a key row from before that key's revocation.
   */
  private keysDropped = 0;
  private envAdminUserId: Promise<string> | undefined;
  private revocations: AsyncIterator<unknown> | undefined;

  /** `adminApiKey`: the environment's key, accepted with every scope. */
  constructor(private readonly adminApiKey: string | undefined) {}

  /** The caller a key belongs to, or undefined for a missing, unknown or revoked key. */
  async authenticate(key: string | undefined): Promise<Caller | undefined> {
    if (!key) return undefined;
    if (this.adminApiKey && sameSecret(key, this.adminApiKey)) return this.envAdmin();
    const keyHash = hashApiKey(key);
    const cached = this.cache.get(keyHash);
    if (cached && cached.expires > Date.now()) return cached.caller;
    const droppedBefore = this.keysDropped;
    const found = await db().apiKey.findUnique({
      where: { keyHash },
      select: {
        id: true,
        scopes: true,
        revokedAt: true,
        user: { select: { id: true, name: true } },
      },
    });
    const caller =
      !found || found.revokedAt
        ? undefined
        : {
            userId: found.user.id,
            userName: found.user.name,
            apiKeyId: found.id,
            scopes: effectiveScopes(found.scopes),
          };
    if (caller) recordKeyUse(caller.apiKeyId!);
    if (this.keysDropped === droppedBefore) {
      if (this.cache.size >= KEY_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(keyHash, { caller, expires: Date.now() + KEY_CACHE_TTL_MS });
    }
    return caller;
  }

  /** Drops a key from the cache, so its next request reads the key row again. */
  forget(apiKeyId: string): void {
    this.keysDropped++;
    for (const [hash, entry] of this.cache)
      if (entry.caller?.apiKeyId === apiKeyId) this.cache.delete(hash);
  }

  /** Until close(): drops every key another process announces as revoked. */
  followRevocations(pubsub: PubSub): void {
    const revoked = pubsub.subscribe('apiKeyRevoked', 'all');
    this.revocations = revoked;
    (async () => {
      for await (const { apiKeyId } of revoked) this.forget(apiKeyId);
    })().catch((error: unknown) =>
      logger.warn({ err: error }, 'revoked-key signal stopped; the cache TTL still applies'),
    );
    revoked.ready.catch(() => {}); // Redis away: the cache's TTL still bounds a revoked key's life
  }

  close(): void {
    void this.revocations?.return?.();
    this.cache.clear();
  }

  private async envAdmin(): Promise<Caller> {
    this.envAdminUserId ??= ensureUser(ENV_ADMIN_USER).then((user) => user.id);
    return {
      userId: await this.envAdminUserId,
      userName: ENV_ADMIN_USER,
      apiKeyId: null,
      scopes: new Set(ALL_SCOPES),
    };
  }
}

/**
 * lastUsedAt, to the minute: written on a cache miss (at most every KEY_CACHE_TTL_MS per key
 * and process) and only when a minute has passed, so busy keys cost no write per request.
 * Not awaited: a failed write loses a timestamp, not a request.
 */
function recordKeyUse(apiKeyId: string): void {
  db()
    .$executeRaw`UPDATE api_keys SET "lastUsedAt" = now() WHERE id = ${apiKeyId}::uuid AND ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - interval '1 minute')`.catch(
    (error: unknown) => logger.warn({ err: error }, 'could not record an API key use'),
  );
}

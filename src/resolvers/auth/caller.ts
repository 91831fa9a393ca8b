// Who is calling: the user behind an API key and the key's scopes. Keys are presented as
// `Authorization: Bearer <key>` or `X-API-Key: <key>` and stored as sha256 hashes.
import { createHash } from 'node:crypto';
import type { Scope } from '../../generated/prisma/enums.js';

export interface Caller {
  userId: string;
  userName: string;
  /** null for the ADMIN_API_KEY from the environment. */
  apiKeyId: string | null;
  scopes: ReadonlySet<Scope>;
}

export const ALL_SCOPES: readonly Scope[] = ['READ', 'WRITE', 'ADMIN'];
/** The user the environment's ADMIN_API_KEY acts as. */
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

/** ADMIN grants WRITE and READ; WRITE grants READ. */
export function effectiveScopes(scopes: readonly Scope[]): Set<Scope> {
  const result = new Set(scopes);
  if (result.has('ADMIN')) result.add('WRITE');
  if (result.has('WRITE')) result.add('READ');
  return result;
}

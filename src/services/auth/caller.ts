// Who is calling: the user behind an API key, the key's team, the user's roles in every team
// they belong to, and what the key may do. Keys are presented as `Authorization: Bearer <key>`
// or `X-API-Key: <key>` and stored as sha256 hashes.
import { createHash } from 'node:crypto';
import type { Scope, TeamRole } from '../../generated/prisma/enums.js';
import { forbidden } from '../../platform/errors.js';

export interface Caller {
  userId: string;
  userName: string;
  /** null for the ADMIN_API_KEY from the environment. */
  apiKeyId: string | null;
  /** The key's team: what it creates belongs there (the operator's: the `default` team). */
  teamId: string;
  /** The environment's ADMIN_API_KEY: every scope in every team. */
  isOperator: boolean;
  /**
   * A key an administrator minted for its member (api_keys."mintedById"): it acts in its own
   * team only, and never on the member's account (no keys, teams, invitations of its own).
   */
  delegated: boolean;
  /** Every team the key's user belongs to, with their role there (empty for the operator). */
  roles: ReadonlyMap<string, TeamRole>;
  /** The key's own scopes, expanded (ADMIN ⇒ WRITE ⇒ READ): the ceiling in every team. */
  keyScopes: ReadonlySet<Scope>;
  /** Effective in the key's own team: the lesser of the key's scopes and the member's role. */
  scopes: ReadonlySet<Scope>;
}

export const ALL_SCOPES: readonly Scope[] = ['READ', 'WRITE', 'ADMIN'];
/** The user the environment's ADMIN_API_KEY acts as. */
export const ENV_ADMIN_USER = 'admin';

/** Refuses what only the member's own keys may do (a delegated key acts in its team only). */
export function requireOwnKey(caller: Pick<Caller, 'delegated'>, what: string): void {
  if (caller.delegated)
    throw forbidden(`A key an administrator minted for you cannot ${what}: use a key of your own`);
}

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

/** The operator as a caller (the environment's key, and server-side loaders such as the demo). */
export function operatorCaller(user: { id: string; name: string }, defaultTeamId: string): Caller {
  return {
    userId: user.id,
    userName: user.name,
    apiKeyId: null,
    teamId: defaultTeamId,
    isOperator: true,
    delegated: false,
    roles: new Map(),
    keyScopes: new Set(ALL_SCOPES),
    scopes: new Set(ALL_SCOPES),
  };
}

// Whose view a cached response is, and the key it is kept under. A response is one caller's
// view: what they see depends on the key's user, its team, every team the user belongs to
// with their role there (visibility.ts, permissions.ts), the key's scopes and whether it is
// the operator's. All of it is in the session, so two keys never share a response, and a
// membership change (a removal, a role changed) makes a new session: the caller's roles are
// read again on the change (authenticator.ts) and the old view is never looked up again.
import { createHash } from 'node:crypto';
import type { Caller } from '../../services/auth/caller.js';
import type { OperationShape } from './operation.js';

export function sessionOf(caller: Caller): string {
  const roles = [...caller.roles].map(([team, role]) => `${team}=${role}`).sort();
  return [
    caller.apiKeyId ?? 'operator',
    caller.userId,
    caller.teamId,
    caller.isOperator ? 'operator' : 'member',
    roles.join(','),
    [...caller.keyScopes].sort().join(','),
    [...caller.scopes].sort().join(','),
  ].join('|');
}

/**
 * `<root fields>/<hash of document, operation, variables, session>`: the store tags the
 * response with its root fields from the key (see response-tags.ts).
 */
export function responseKey(
  shape: OperationShape,
  params: { query?: string; operationName?: string | null; variables?: unknown },
  session: string,
): string {
  const hash = createHash('sha256')
    .update(params.query ?? '')
    .update('\0')
    .update(params.operationName ?? '')
    .update('\0')
    .update(JSON.stringify(params.variables ?? {}))
    .update('\0')
    .update(session)
    .digest('base64url');
  return `${shape.roots.join(',')}/${hash}`;
}

/** The root fields a key names. */
export const rootsOfKey = (key: string): string[] =>
  key.slice(0, key.indexOf('/')).split(',').filter(Boolean);

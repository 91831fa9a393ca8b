// What decides what a caller may see and whose things a result shows: equal live queries of
// callers with the same key share each execution (groups.ts), and a change of it makes a live
// query run again as the caller now is (stream-guard.ts).
import type { Caller } from '../../services/auth/caller.js';

/**
 * The key itself (its team, its budgets and the download links signed for it are in some
 * results), its user, the user's role in each team, and the scopes.
 */
export function visibilityKey(caller: Caller): string {
  const roles = [...caller.roles].map(([teamId, role]) => `${teamId}=${role}`).sort();
  return [
    caller.apiKeyId ?? 'operator',
    caller.userId,
    caller.teamId,
    caller.isOperator,
    caller.delegated,
    [...caller.keyScopes].sort().join(','),
    [...caller.scopes].sort().join(','),
    roles.join(','),
  ].join('\n');
}

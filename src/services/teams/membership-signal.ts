// A user's memberships changed (joined, left, removed, role changed): every API process drops
// the user's cached keys, this one at once and the others on the same signal as a key
// revocation (within the cache's TTL when pub/sub is down), so the change holds on their
// next request. Cached responses of teams (members, roles) go at once; every other cached
// view is the caller's old session's, which their new roles never look up again. The
// revocation goes first: a process must hold the user's open streams before the change makes
// their live queries run again, or one run with the old rights could reach them (one publisher
// connection and one subscriber connection per process keep the two signals in this order).
import type { PubSub } from '../../platform/pubsub.js';
import { announceChanges } from '../../platform/changes.js';

export interface MembershipDeps {
  pubsub: PubSub;
  /** This process's key cache. */
  apiKeys: { forgetUser(userId: string): void };
}

export async function announceMembershipChange(
  { pubsub, apiKeys }: MembershipDeps,
  userIds: readonly string[],
): Promise<void> {
  for (const userId of new Set(userIds)) {
    apiKeys.forgetUser(userId);
    await pubsub.publish('apiKeyRevoked', 'all', { userId });
  }
  await announceChanges({ kind: 'team.changed' });
}

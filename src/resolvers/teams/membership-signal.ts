// A user's memberships changed (joined, left, removed, role changed): every API process drops
// the user's cached keys, this one at once and the others on the same signal as a key
// revocation (within the cache's TTL when pub/sub is down), so the change holds on their
// next request.
import type { PubSub } from '../../platform/pubsub.js';

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
}

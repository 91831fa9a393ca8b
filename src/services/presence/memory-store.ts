// Presence within one process (no REDIS_URL): the same entries and expiry as the Redis
// store, in a Map, so that the rest of presence runs the same way in both.
import {
  entryField,
  userOfField,
  type PresenceEntry,
  type PresenceStore,
  type PresenceUser,
} from './store.js';

export function createMemoryPresenceStore(ttlMs: number): PresenceStore {
  const channels = new Map<string, Map<string, PresenceEntry>>();
  const sweep = (entries: Map<string, PresenceEntry>, now: number) => {
    let dropped = false;
    for (const [field, entry] of entries)
      if (entry.lastSeenAt < now - ttlMs) dropped = entries.delete(field);
    return dropped;
  };
  return {
    async touch(channel: string, processId: string, users: readonly PresenceUser[]) {
      const now = Date.now();
      let entries = channels.get(channel);
      if (!entries) channels.set(channel, (entries = new Map()));
      let changed = sweep(entries, now);
      for (const user of users) {
        const field = entryField(user.userId, processId);
        const entry = entries.get(field);
        if (entry) entry.lastSeenAt = now;
        else {
          entries.set(field, { ...user, since: now, lastSeenAt: now });
          changed = true;
        }
      }
      if (!entries.size) channels.delete(channel);
      return changed;
    },
    async remove(channel: string, processId: string, userIds: readonly string[]) {
      const entries = channels.get(channel);
      if (!entries) return false;
      let removed = false;
      for (const userId of userIds)
        removed = entries.delete(entryField(userId, processId)) || removed;
      if (!entries.size) channels.delete(channel);
      return removed;
    },
    async read(channel: string) {
      const now = Date.now();
      return [...(channels.get(channel)?.entries() ?? [])]
        .filter(([, entry]) => entry.lastSeenAt >= now - ttlMs)
        .map(([field, entry]) => ({ ...entry, userId: userOfField(field) }));
    },
    async close() {
      channels.clear();
    },
  };
}

// A channel's members from its entries (a user on several API processes is one member),
// and what changed between two readings of them.
import type { PresenceEntry, PresenceUser } from './store.js';

export interface PresenceMember {
  user: PresenceUser;
  /** When the user's oldest current entry joined. */
  since: Date;
  /** The latest refresh of any of the user's entries. */
  lastSeenAt: Date;
}

/** What a follower of a channel receives: the members now, and who joined or left since the last one. */
export interface PresenceChange {
  members: PresenceMember[];
  joined: PresenceUser[];
  left: PresenceUser[];
}

/** One member per user, the earliest arrivals first (then by name). */
export function membersOf(entries: readonly PresenceEntry[]): PresenceMember[] {
  const byUser = new Map<string, { user: PresenceUser; since: number; lastSeenAt: number }>();
  for (const entry of entries) {
    const member = byUser.get(entry.userId);
    if (!member) {
      byUser.set(entry.userId, {
        user: { userId: entry.userId, name: entry.name },
        since: entry.since,
        lastSeenAt: entry.lastSeenAt,
      });
      continue;
    }
    member.since = Math.min(member.since, entry.since);
    member.lastSeenAt = Math.max(member.lastSeenAt, entry.lastSeenAt);
  }
  return [...byUser.values()]
    .sort((a, b) => a.since - b.since || a.user.name.localeCompare(b.user.name))
    .map((m) => ({ user: m.user, since: new Date(m.since), lastSeenAt: new Date(m.lastSeenAt) }));
}

/** Who is in `after` and not in `before`, and the reverse. */
export function membersDiff(
  before: readonly PresenceMember[],
  after: readonly PresenceMember[],
): { joined: PresenceUser[]; left: PresenceUser[] } {
  const was = new Set(before.map((m) => m.user.userId));
  const is = new Set(after.map((m) => m.user.userId));
  return {
    joined: after.filter((m) => !was.has(m.user.userId)).map((m) => m.user),
    left: before.filter((m) => !is.has(m.user.userId)).map((m) => m.user),
  };
}

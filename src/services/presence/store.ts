// Where the members of presence channels are kept: Redis shared by every API process (with
// REDIS_URL), or this process's memory (the embedded default). One entry per user and API
// process, so a user on two processes stays until both have let go (docs/architecture.md#presence).

/** A user as presence shows them. */
export interface PresenceUser {
  userId: string;
  name: string;
}

/** One process's entry of a user in a channel: `since` it first joined, `lastSeenAt` its last refresh (epoch ms). */
export interface PresenceEntry extends PresenceUser {
  since: number;
  lastSeenAt: number;
}

export interface PresenceStore {
  /**
   * Drops the channel's entries not seen for the TTL (a stopped process's), then marks this
   * process's entries for `users` seen now (adding those not there). True when an entry was
   * added or dropped: the channel's members may have changed.
   */
  touch(channel: string, processId: string, users: readonly PresenceUser[]): Promise<boolean>;
  /** Removes this process's entries of `userIds`; true when one was there. */
  remove(channel: string, processId: string, userIds: readonly string[]): Promise<boolean>;
  /** The channel's entries seen within the TTL. */
  read(channel: string): Promise<PresenceEntry[]>;
  close(): Promise<void>;
}

/** An entry's field: the user, then the process (neither holds a `|`: both are UUIDs). */
export const entryField = (userId: string, processId: string) => `${userId}|${processId}`;
export const userOfField = (field: string) => field.slice(0, field.indexOf('|'));

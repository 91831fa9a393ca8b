// Who is looking at what, per API process: being subscribed is being present. The process
// keeps one entry per user and channel in the store (however many of the user's streams it
// serves), marks its entries seen every refresh period, and removes one when the user's last
// stream here ends; entries of a process that stopped expire after the TTL, dropped by the
// next refresh of any process following the channel. Every change is announced over pub/sub
// as "look again": each process following the channel reads its members (one read at a time,
// the latest wins) and tells its followers who joined and left. The refresh reads too, for
// what pub/sub lost (docs/architecture.md#presence).
import type { RedisSource } from '../../platform/redis.js';
import { randomUUID } from 'node:crypto';
import type { PresenceSettings } from '../../platform/presence-settings.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Subscription } from '../../platform/pubsub-subscription.js';
import { createMemoryPresenceStore } from './memory-store.js';
import { membersDiff, membersOf, type PresenceChange, type PresenceMember } from './members.js';
import { createRedisPresenceStore } from './redis-store.js';
import type { PresenceStore, PresenceUser } from './store.js';

const log = logger.child({ module: 'presence' });

/** A stream following a channel: its first change has every member as joined. */
export interface PresenceListener {
  next(change: PresenceChange): void;
}

interface Follower {
  listener: PresenceListener;
  /** Its own entry is written: the next reading includes it. */
  ready: boolean;
  /** It got its first change. */
  started: boolean;
}

interface Channel {
  /** This process's users here, with how many of their streams follow it. */
  local: Map<string, { user: PresenceUser; streams: number; written: Promise<void> }>;
  followers: Set<Follower>;
  /** The last reading (undefined before the first). */
  members: PresenceMember[] | undefined;
  signals: Subscription<unknown>;
  reading: boolean;
  readAgain: boolean;
}

export interface PresenceOptions extends PresenceSettings {
  /** Unset: presence within this process (as pub/sub without Redis). */
  redis?: RedisSource;
  keyPrefix: string;
  pubsub: PubSub;
}

export function createPresence(options: PresenceOptions): Presence {
  const store = options.redis
    ? createRedisPresenceStore(options.redis, options.keyPrefix, options.ttlMs)
    : createMemoryPresenceStore(options.ttlMs);
  return new Presence(store, options.pubsub, options.refreshMs);
}

export class Presence {
  /** This process's name in the store's entries. */
  readonly processId = randomUUID();
  private readonly channels = new Map<string, Channel>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly pubsub: PubSub,
    refreshMs: number,
  ) {
    this.timer = setInterval(() => this.refresh(), refreshMs).unref();
  }

  /**
   * Makes `user` present in `channel` while the returned stop is not called, and tells
   * `listener` the members (first all of them as joined, then each change).
   */
  join(channel: string, user: PresenceUser, listener: PresenceListener): () => void {
    const state = this.channel(channel);
    const follower: Follower = { listener, ready: false, started: false };
    state.followers.add(follower);
    const written = this.enter(channel, state, user);
    // Listening before reading, so that a change made in between is read again.
    void Promise.all([written, state.signals.ready.catch(() => {})]).then(() => {
      if (!state.followers.has(follower)) return;
      follower.ready = true;
      this.read(channel, state);
    });
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      state.followers.delete(follower);
      this.leave(channel, state, user.userId);
    };
  }

  /** The members of `channel` now. */
  async members(channel: string): Promise<PresenceMember[]> {
    return membersOf(await this.store.read(channel));
  }

  /** Removes this process's entries (its members leave at once rather than expire) and stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    const leaving = [...this.channels].map(([channel, state]) => {
      void state.signals.return?.();
      return this.write(channel, () =>
        this.store.remove(channel, this.processId, [...state.local.keys()]),
      );
    });
    this.channels.clear();
    await Promise.all(leaving);
    this.closed = true;
    await this.store.close().catch(() => undefined);
  }

  private channel(channel: string): Channel {
    const known = this.channels.get(channel);
    if (known) return known;
    const state: Channel = {
      local: new Map(),
      followers: new Set(),
      members: undefined,
      signals: this.pubsub.subscribe('presenceChanged', channel),
      reading: false,
      readAgain: false,
    };
    this.channels.set(channel, state);
    void (async () => {
      for await (const _signal of state.signals) this.read(channel, state);
    })();
    return state;
  }

  private enter(channel: string, state: Channel, user: PresenceUser): Promise<void> {
    const present = state.local.get(user.userId);
    if (present) {
      present.streams++;
      return present.written;
    }
    const written = this.write(channel, () => this.store.touch(channel, this.processId, [user]));
    state.local.set(user.userId, { user, streams: 1, written });
    return written;
  }

  private leave(channel: string, state: Channel, userId: string): void {
    const present = state.local.get(userId);
    if (!present || --present.streams > 0) return;
    state.local.delete(userId);
    void this.write(channel, () => this.store.remove(channel, this.processId, [userId]));
    if (
      state.local.size === 0 &&
      state.followers.size === 0 &&
      this.channels.get(channel) === state
    ) {
      this.channels.delete(channel);
      void state.signals.return?.();
    }
  }

  /** A change of the store, announced when it changed the entries; failures wait for the next refresh. */
  private async write(channel: string, change: () => Promise<boolean>): Promise<void> {
    if (this.closed) return;
    try {
      if (await change()) await this.pubsub.publish('presenceChanged', channel, {});
    } catch (error) {
      log.warn({ err: (error as Error).message, channel }, 'presence write failed; next refresh');
    }
  }

  /** Reads the members, one reading at a time per channel, and tells the followers. */
  private read(channel: string, state: Channel): void {
    if (state.reading) {
      state.readAgain = true;
      return;
    }
    state.reading = true;
    void (async () => {
      try {
        do {
          state.readAgain = false;
          const waiting = [...state.followers].filter((f) => f.ready && !f.started);
          const members = membersOf(await this.store.read(channel));
          this.deliver(state, members, waiting);
        } while (state.readAgain);
      } catch (error) {
        log.warn({ err: (error as Error).message, channel }, 'presence read failed; next refresh');
      } finally {
        state.reading = false;
      }
    })();
  }

  private deliver(state: Channel, members: PresenceMember[], waiting: Follower[]): void {
    const before = state.members;
    state.members = members;
    if (before) {
      const { joined, left } = membersDiff(before, members);
      if (joined.length || left.length)
        for (const follower of state.followers)
          if (follower.started) follower.listener.next({ members, joined, left });
    }
    const everyone = members.map((member) => member.user);
    for (const follower of waiting) {
      if (!state.followers.has(follower)) continue;
      follower.started = true;
      follower.listener.next({ members, joined: everyone, left: [] });
    }
  }

  /** Marks this process's entries seen (dropping expired ones), then reads each channel again. */
  private refresh(): void {
    for (const [channel, state] of this.channels) {
      const users = [...state.local.values()].map((present) => present.user);
      void this.write(channel, () => this.store.touch(channel, this.processId, users)).then(() =>
        this.read(channel, state),
      );
    }
  }
}

// Presence in Redis, the one state Redis holds, and only for as long as its processes live:
// per channel a sorted set of entries (`<user>|<process>`) scored by when each was last seen
// and a hash of what each entry shows (`<since>|<name>`), both expiring with the TTL. Each
// change is one script, timed by Redis's clock, so processes whose clocks differ agree on
// who expired.
import type { Redis } from 'ioredis';
import { closeRedisClient, createRedisClient, type RedisSource } from '../../platform/redis.js';
import {
  entryField,
  userOfField,
  type PresenceEntry,
  type PresenceStore,
  type PresenceUser,
} from './store.js';

const NOW = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])`;

// KEYS: seen, info. ARGV: ttl, then field and name of each entry to mark seen. Returns 1 when
// an entry was dropped or added.
const TOUCH = `${NOW}
local changed = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - ttl))
for _, field in ipairs(expired) do
  redis.call('ZREM', KEYS[1], field)
  redis.call('HDEL', KEYS[2], field)
  changed = 1
end
for i = 2, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], now, ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], now .. '|' .. ARGV[i + 1])
    changed = 1
  end
end
if #ARGV > 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return changed`;

// KEYS: seen, info. ARGV: the fields to remove. Returns how many were there.
const REMOVE = `local removed = 0
for _, field in ipairs(ARGV) do
  removed = removed + redis.call('ZREM', KEYS[1], field)
  redis.call('HDEL', KEYS[2], field)
end
return removed`;

// KEYS: seen, info. ARGV: ttl. Returns field, last seen, info of each entry seen within it.
const READ = `${NOW}
local seen = redis.call('ZRANGEBYSCORE', KEYS[1], now - ttl, '+inf', 'WITHSCORES')
local result = {}
for i = 1, #seen, 2 do
  local info = redis.call('HGET', KEYS[2], seen[i])
  if info then
    result[#result + 1] = seen[i]
    result[#result + 1] = seen[i + 1]
    result[#result + 1] = info
  end
end
return result`;

interface PresenceCommands {
  presenceTouch(seen: string, info: string, ttlMs: number, ...args: string[]): Promise<number>;
  presenceRemove(seen: string, info: string, ...fields: string[]): Promise<number>;
  presenceRead(seen: string, info: string, ttlMs: number): Promise<string[]>;
}

export function createRedisPresenceStore(
  redis: RedisSource,
  keyPrefix: string,
  ttlMs: number,
): PresenceStore {
  // Connected on first use: a process nobody follows anything on opens no connection.
  let opened: Promise<Redis & PresenceCommands> | undefined;
  const connection = () =>
    (opened ??= createRedisClient(redis, 'agent-growth:presence').then((client) => {
      client.defineCommand('presenceTouch', { numberOfKeys: 2, lua: TOUCH });
      client.defineCommand('presenceRemove', { numberOfKeys: 2, lua: REMOVE });
      client.defineCommand('presenceRead', { numberOfKeys: 2, lua: READ });
      return client as Redis & PresenceCommands;
    }));
  // The hash tag keeps a channel's two keys in one slot (Redis Cluster).
  const keys = (channel: string) => {
    const base = `${keyPrefix}presence:{${channel}}`;
    return [`${base}:seen`, `${base}:info`] as const;
  };
  return {
    async touch(channel: string, processId: string, users: readonly PresenceUser[]) {
      const args = users.flatMap((user) => [entryField(user.userId, processId), user.name]);
      return (await (await connection()).presenceTouch(...keys(channel), ttlMs, ...args)) === 1;
    },
    async remove(channel: string, processId: string, userIds: readonly string[]) {
      if (!userIds.length) return false;
      const fields = userIds.map((userId) => entryField(userId, processId));
      return (await (await connection()).presenceRemove(...keys(channel), ...fields)) > 0;
    },
    async read(channel: string) {
      const flat = await (await connection()).presenceRead(...keys(channel), ttlMs);
      const entries: PresenceEntry[] = [];
      for (let i = 0; i < flat.length; i += 3) {
        const info = flat[i + 2]!;
        const bar = info.indexOf('|');
        entries.push({
          userId: userOfField(flat[i]!),
          name: info.slice(bar + 1),
          since: Number(info.slice(0, bar)),
          lastSeenAt: Number(flat[i + 1]),
        });
      }
      return entries;
    },
    async close() {
      if (opened) await closeRedisClient(await opened);
    },
  };
}

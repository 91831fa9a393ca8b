// The response store's Redis scripts: each runs atomically, so an invalidation and a write
// of a response never interleave. Keys under the prefix P:
//   P epoch          bumped to drop every response at once (response keys carry it)
//   P clock          counts invalidations; a reader notes it on a miss
//   P r:<epoch>:<id> a response (JSON), with its TTL
//   P t:<tag>        the responses holding a tag (sorted set, score: when each expires)
//   P i:<tag>        the clock at the tag's last invalidation (kept INVALIDATION_MEMORY_MS)
// The prefix carries a hash tag (`<deployment prefix>{rc}:`), so every key of the store is in
// one slot on a cluster, as a script's keys must be. The keys a script knows before it runs
// are declared (KEYS, which also routes it to the slot's master); the response keys are built
// inside from the epoch it reads, under the same tagged prefix.

/** KEYS: epoch, clock. ARGV: prefix, id. Returns {1, json} or {0, clock, epoch}. */
export const GET_SCRIPT = `
local epoch = redis.call('GET', KEYS[1]) or '0'
local value = redis.call('GET', ARGV[1] .. 'r:' .. epoch .. ':' .. ARGV[2])
if value then return {1, value} end
return {0, redis.call('GET', KEYS[2]) or '0', epoch}
`;

/**
 * KEYS: epoch, clock, then i:<tag> and t:<tag> of each tag. ARGV: prefix, id, json, ttl ms,
 * clock and epoch noted at the miss, tag TTL ms.
 * Refuses (0) when anything the response holds was invalidated since the miss: the reader may
 * have read the rows from before that change (a write after the invalidation would keep a
 * stale response). Also when the clock or epoch moved back or on (Redis lost its data, or
 * everything was dropped).
 */
export const SET_SCRIPT = `
local p = ARGV[1]
local start = tonumber(ARGV[5])
local clock = tonumber(redis.call('GET', KEYS[2]) or '0')
local epoch = redis.call('GET', KEYS[1]) or '0'
if clock < start or epoch ~= ARGV[6] then return 0 end
if clock > start then
  for i = 3, #KEYS, 2 do
    local at = redis.call('GET', KEYS[i])
    if at and tonumber(at) > start then return 0 end
  end
end
local key = p .. 'r:' .. epoch .. ':' .. ARGV[2]
local ttl = tonumber(ARGV[4])
redis.call('SET', key, ARGV[3], 'PX', ttl)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 4, #KEYS, 2 do
  local tagKey = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', tagKey, '-inf', now)
  redis.call('ZADD', tagKey, now + ttl, key)
  if redis.call('PTTL', tagKey) < ttl then redis.call('PEXPIRE', tagKey, ARGV[7]) end
end
return 1
`;

/**
 * KEYS: clock, then t:<tag> and i:<tag> of each tag. ARGV: memory ms. Deletes every response
 * holding a tag; returns the clock.
 */
export const INVALIDATE_SCRIPT = `
local clock = redis.call('INCR', KEYS[1])
for i = 2, #KEYS, 2 do
  local keys = redis.call('ZRANGE', KEYS[i], 0, -1)
  for j = 1, #keys, 1000 do
    redis.call('DEL', unpack(keys, j, math.min(j + 999, #keys)))
  end
  redis.call('DEL', KEYS[i])
  redis.call('SET', KEYS[i + 1], clock, 'PX', ARGV[1])
end
return clock
`;

/** KEYS: clock, epoch. Every response at once: a new epoch (old keys expire by their TTL). */
export const FLUSH_SCRIPT = `
redis.call('INCR', KEYS[1])
return redis.call('INCR', KEYS[2])
`;

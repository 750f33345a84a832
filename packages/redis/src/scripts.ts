import { createHash } from 'node:crypto'

/**
 * The Lua that makes writes and leases atomic. Each runs by SHA (EVALSHA) and
 * is re-sent as EVAL after NOSCRIPT (see Commands.run). All keys of one call
 * share a hash tag (keys.ts), so every script runs on one Cluster node.
 *
 * Entries start with `<fence>,` (entry-format.ts): GETRANGE reads the fence
 * without copying the value.
 */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

const STORED_FENCE = `local function storedFence(key)
  return tonumber(string.match(redis.call('GETRANGE', key, 0, 24), '^(%d+),'))
end
`

/**
 * KEYS: value. ARGV: fence, encoded entry, ttl ms. Writes unless the stored
 * entry has a higher fence; a ttl of 0 writes an entry that is gone at once
 * (deletes). 1 written, 0 refused.
 */
export const SET_IF_NEWER = script(
  'setIfNewer',
  `${STORED_FENCE}
local current = storedFence(KEYS[1])
if current and current > tonumber(ARGV[1]) then return 0 end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`,
)

/**
 * KEYS: value. ARGV: at (epoch ms). freshUntil (3rd field) becomes
 * min(freshUntil, at); the rest and the TTL are kept. 1 when an entry was there.
 */
export const MARK_STALE = script(
  'markStale',
  `local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local c1 = string.find(v, ',', 1, true)
local c2 = c1 and string.find(v, ',', c1 + 1, true)
local c3 = c2 and string.find(v, ',', c2 + 1, true)
if not c3 then return redis.error_reply('herd: ' .. KEYS[1] .. ' is not a herd entry') end
local fresh = tonumber(string.sub(v, c2 + 1, c3 - 1))
if fresh and fresh > tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], string.sub(v, 1, c2) .. ARGV[1] .. string.sub(v, c3), 'KEEPTTL')
end
return 1`,
)

/**
 * The next fence: INCR of the key's counter, lifted above the stored entry's
 * fence in case the counter expired (or was evicted) while the entry lived
 * on; the counter's TTL is pushed to fenceTtl on each use.
 */
const NEXT_FENCE = `${STORED_FENCE}
local function nextFence(counter, value, ttl)
  local f = redis.call('INCR', counter)
  local stored = storedFence(value)
  if stored and stored >= f then
    f = stored + 1
    redis.call('SET', counter, f)
  end
  redis.call('PEXPIRE', counter, ttl)
  return f
end
`

/** KEYS: lock, fence, value. ARGV: token, lease ms, fence ttl ms. The new fence, or nil when the key is held. */
export const ACQUIRE = script(
  'acquire',
  `${NEXT_FENCE}
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return nextFence(KEYS[2], KEYS[3], ARGV[3])`,
)

/** KEYS: fence, value. ARGV: fence ttl ms. A fence for a write made without a lease. */
export const FENCE = script(
  'fence',
  `${NEXT_FENCE}
return nextFence(KEYS[1], KEYS[2], ARGV[1])`,
)

/** KEYS: lock. ARGV: token, wake channel. Owner only: deletes the lease and wakes the waiters. 1 released, 0 not ours. */
export const RELEASE = script(
  'release',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1`,
)

/** KEYS: lock. ARGV: token, lease ms. Owner only. 1 extended, 0 not ours. */
export const EXTEND = script(
  'extend',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
)

/** KEYS: lock. The holder's token ('' when free) and the lease's remaining ms, for a waiter's fallback check. */
export const PROBE = script(
  'probe',
  `local token = redis.call('GET', KEYS[1])
if not token then return {'', -2} end
return {token, redis.call('PTTL', KEYS[1])}`,
)

import { createHash } from 'node:crypto'

/**
 * The Lua that makes writes and leases atomic. Each runs by SHA (EVALSHA) and
 * is re-sent as EVAL after NOSCRIPT (see Commands.run). All keys of one call
 * share a hash tag (keys.ts), and the wake channel a script publishes on is
 * in the same slot on a Cluster, so every script runs on one node.
 *
 * Entries start with `<fence>,` (entry-format.ts): GETRANGE reads the fence
 * without copying the value.
 *
 * A lease is the holder's token at the lock key; a process that found the
 * key busy and waits appends `+` to it (once), so the holder's fill knows
 * someone waits and pushes the entry with the wake-up. Owner checks accept
 * both forms.
 *
 * A lease taken after a miss is a marker instead: the holder's token
 * (`~<uuid>`, marker.ts) at the value key itself, set with a plain
 * `SET NX PX GET`, so a process that finds it busy pays two commands in all
 * (its GET and that SET). Every script here treats a marker as no entry
 * (it has no `<fence>,` head), and the fused acquire as a held key.
 */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * Foreign data at herd's keys heals instead of blocking them: a value key of
 * another type reads as no entry (the write replaces it), a fence counter
 * that is not a number starts again (the clock keeps fences monotonic), a
 * lock key without an expiry (herd's leases always have one) is taken over.
 */
const STORED_FENCE = `local function storedFence(key)
  local ok, head = pcall(redis.call, 'GETRANGE', key, 0, 24)
  if not ok then return nil end
  return tonumber(string.match(head, '^(%d+),'))
end
local function readEntry(key)
  local ok, value = pcall(redis.call, 'GET', key)
  if ok then return value end
  return false
end
local function isMarker(value)
  return value and string.byte(value, 1) == 126
end
local function takeLease(lock, token, ms)
  if redis.call('SET', lock, token, 'NX', 'PX', ms) then return true end
  if redis.call('PTTL', lock) ~= -1 then return false end
  redis.call('DEL', lock)
  return redis.call('SET', lock, token, 'NX', 'PX', ms) ~= false
end
`

const OWNS = `local function owns(lease, token)
  return lease == token or lease == token .. '+'
end
local function wakeMessage(header, token)
  return header .. string.len(token) .. ':' .. token
end
`

/**
 * A Bus message (bus.ts' JSON) with the fence the script took, so a process
 * that already holds that entry (woken with it) keeps it: `"fence":<n>`
 * goes in before the closing brace.
 */
const WITH_FENCE = `local function withFence(payload, fence)
  if fence == '' or string.sub(payload, -1) ~= '}' then return payload end
  return string.sub(payload, 1, -2) .. ',"fence":' .. fence .. '}'
end
`

/**
 * Writes unless the stored entry has a higher fence; a ttl of 0 deletes
 * (the entry would be gone at once). 1 written, 0 refused.
 */
const WRITE_IF_NEWER = `${STORED_FENCE}
local function writeIfNewer(key, fence, entry, ttl)
  local current = storedFence(key)
  if current and current > tonumber(fence) then return 0 end
  if ttl == '0' then
    redis.call('DEL', key)
  else
    redis.call('SET', key, entry, 'PX', ttl)
  end
  return 1
end
`

/**
 * The next fence: max(counter + 1, Redis' clock in µs, stored entry's + 1).
 * The clock keeps fences monotonic when Redis loses the counter and the
 * entry together (FLUSHALL, a restart without persistence, a failover to a
 * replica that lagged): a lease taken before the loss has a lower fence than
 * any taken after it, as long as keys don't take a million fences a second
 * and the new master's clock is not behind the old one's. Lua numbers are
 * doubles, exact to 2^53 (µs since 1970 are ~2^50): written back with %.0f,
 * never tostring's 14 digits.
 */
const NEXT_FENCE = `${STORED_FENCE}
local function fenceAbove(counter, stored, ttl)
  local ok, f = pcall(redis.call, 'INCR', counter)
  if not ok then
    redis.call('DEL', counter)
    f = redis.call('INCR', counter)
  end
  local time = redis.call('TIME')
  local floor = tonumber(time[1]) * 1000000 + tonumber(time[2])
  if stored and stored >= floor then floor = stored + 1 end
  if floor > f then
    f = floor
    redis.call('SET', counter, string.format('%.0f', f), 'PX', ttl)
  else
    redis.call('PEXPIRE', counter, ttl)
  end
  return f
end
local function nextFence(counter, value, ttl)
  return fenceAbove(counter, storedFence(value), ttl)
end
`

/** KEYS: value. ARGV: fence, encoded entry, ttl ms. 1 written, 0 refused. */
export const SET_IF_NEWER = script(
  'setIfNewer',
  `${WRITE_IF_NEWER}
return writeIfNewer(KEYS[1], ARGV[1], ARGV[2], ARGV[3])`,
)

/**
 * KEYS: value. ARGV: at (epoch ms), fence ('' for none). freshUntil (3rd
 * field) becomes min(freshUntil, at); with a fence, the entry's fence (1st
 * field) becomes max(fence, its own), so a write with an older fence (a load
 * that began before this expire) is refused afterwards. The rest and the
 * TTL are kept. 1 when an entry was there.
 */
export const MARK_STALE = script(
  'markStale',
  `${STORED_FENCE}
local v = readEntry(KEYS[1])
if not v then return 0 end
local c1 = string.find(v, ',', 1, true)
local c2 = c1 and string.find(v, ',', c1 + 1, true)
local c3 = c2 and string.find(v, ',', c2 + 1, true)
-- not a herd entry: nothing to mark (the herd's tombstone replaces it)
if not c3 or not tonumber(string.sub(v, 1, c1 - 1)) then return 0 end
local fence = string.sub(v, 1, c1 - 1)
local fresh = tonumber(string.sub(v, c2 + 1, c3 - 1))
local changed = false
if ARGV[2] ~= '' and tonumber(ARGV[2]) > tonumber(fence) then
  fence = ARGV[2]
  changed = true
end
if fresh and fresh > tonumber(ARGV[1]) then
  fresh = ARGV[1]
  changed = true
else
  fresh = string.sub(v, c2 + 1, c3 - 1)
end
if changed then
  redis.call('SET', KEYS[1], fence .. string.sub(v, c1, c2) .. fresh .. string.sub(v, c3), 'KEEPTTL')
end
return 1`,
)

/** KEYS: lock, fence, value. ARGV: token, lease ms, fence ttl ms. The new fence (a string), or nil when the key is held. */
export const ACQUIRE = script(
  'acquire',
  `${NEXT_FENCE}
if not takeLease(KEYS[1], ARGV[1], ARGV[2]) then return false end
return string.format('%.0f', nextFence(KEYS[2], KEYS[3], ARGV[3]))`,
)

/** KEYS: fence, value. ARGV: fence ttl ms. A fence (a string) for a write made without a lease. */
export const FENCE = script(
  'fence',
  `${NEXT_FENCE}
return string.format('%.0f', nextFence(KEYS[1], KEYS[2], ARGV[1]))`,
)

/**
 * KEYS: the lease's key (the lock key, or the value key for a marker).
 * ARGV: token, wake channel, publish command (PUBLISH or SPUBLISH), wake
 * header (wake-message.ts). Owner only: deletes the lease and wakes the
 * waiters. 1 released, 0 not ours.
 */
export const RELEASE = script(
  'release',
  `${OWNS}
if not owns(redis.call('GET', KEYS[1]), ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call(ARGV[3], ARGV[2], wakeMessage(ARGV[4], ARGV[1]))
return 1`,
)

/** KEYS: the lease's key (as RELEASE). ARGV: token, lease ms. Owner only. 1 extended, 0 not ours. */
export const EXTEND = script(
  'extend',
  `${OWNS}
if not owns(redis.call('GET', KEYS[1]), ARGV[1]) then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
)

/**
 * KEYS: lock, value. The holder's token ('' when free) and the lease's
 * remaining ms, for a waiter's fallback check. A marker without an expiry
 * (never herd's: foreign data) is removed and reported free.
 */
export const PROBE = script(
  'probe',
  `${STORED_FENCE}
local lease = redis.call('GET', KEYS[1])
if lease then return {string.gsub(lease, '%+$', ''), redis.call('PTTL', KEYS[1])} end
local value = readEntry(KEYS[2])
if not isMarker(value) then return {'', -2} end
local pttl = redis.call('PTTL', KEYS[2])
if pttl == -1 then
  redis.call('DEL', KEYS[2])
  return {'', -2}
end
return {value, pttl}`,
)

/**
 * Acquire-or-read. KEYS: lock, fence, value. ARGV: token, lease ms, fence
 * ttl ms. Won: {1, fence, entry}. Busy: {0, holder's token, lease's
 * remaining ms, entry}, and the lease is marked as waited on.
 *
 * A key without an entry is leased as a marker, as `SET NX GET` after a
 * miss would lease it (won: {2, marker}), and a marker is a held key
 * (busy, no entry): so the two ways to acquire exclude each other on a
 * key without an entry, and the lock key only guards keys that have one.
 */
export const FUSED_ACQUIRE = script(
  'fusedAcquire',
  `${NEXT_FENCE}
local read, value = pcall(redis.call, 'GET', KEYS[3])
if not read then value = false end
if isMarker(value) then return {0, value, redis.call('PTTL', KEYS[3]), false} end
if read and not value and redis.call('EXISTS', KEYS[1]) == 0 then
  local marker = '~' .. ARGV[1]
  redis.call('SET', KEYS[3], marker, 'PX', ARGV[2])
  return {2, marker}
end
if takeLease(KEYS[1], ARGV[1], ARGV[2]) then
  local fence = nextFence(KEYS[2], KEYS[3], ARGV[3])
  return {1, string.format('%.0f', fence), value}
end
local lease = redis.call('GET', KEYS[1])
if not lease then
  -- expired between the SET and the GET: report it free (no entry read), the caller retries
  return {0, '', 0, false}
end
if string.sub(lease, -1) ~= '+' then redis.call('APPEND', KEYS[1], '+') end
return {0, string.gsub(lease, '%+$', ''), redis.call('PTTL', KEYS[1]), value}`,
)

/**
 * Write + release + wake + notify. KEYS: value, lock. ARGV: token, fence,
 * encoded entry ('' for no write), ttl ms, wake channel, publish command,
 * wake header, push limit (bytes), bus channel ('' for none), bus message.
 *
 * The write is fenced as SET_IF_NEWER. The wake goes out when the lease was
 * ours or has run out (then nobody else will announce it): with the entry
 * when it was written, someone waits and it is at most the push limit. The
 * bus message goes out when the write stood or there was none.
 * Returns {written, released}.
 */
export const FILL = script(
  'fill',
  `${WRITE_IF_NEWER}${OWNS}
local written = 0
if ARGV[3] ~= '' then written = writeIfNewer(KEYS[1], ARGV[2], ARGV[3], ARGV[4]) end
local lease = redis.call('GET', KEYS[2])
local released = 0
if lease and owns(lease, ARGV[1]) then
  redis.call('DEL', KEYS[2])
  released = 1
end
if released == 1 or not lease then
  local message = wakeMessage(ARGV[7], ARGV[1])
  if written == 1 and ARGV[4] ~= '0' and lease ~= ARGV[1] and string.len(ARGV[3]) <= tonumber(ARGV[8]) then
    message = message .. ARGV[3]
  end
  redis.call(ARGV[6], ARGV[5], message)
end
if ARGV[9] ~= '' and (written == 1 or ARGV[3] == '') then redis.call('PUBLISH', ARGV[9], ARGV[10]) end
return {written, released}`,
)

/**
 * A write without a lease in one trip. KEYS: fence, value. ARGV: fence ttl
 * ms, the encoded entry after its fence (from the first comma), ttl ms,
 * bus channel ('' for none), bus message. The next fence goes in front of
 * the entry; nothing can hold a higher one. Returns {fence, written}.
 */
export const FUSED_WRITE = script(
  'fusedWrite',
  `${NEXT_FENCE}${WITH_FENCE}
local fence = string.format('%.0f', nextFence(KEYS[1], KEYS[2], ARGV[1]))
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], fence .. ARGV[2], 'PX', ARGV[3])
end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], withFence(ARGV[5], fence)) end
return {fence, 1}`,
)

/**
 * FILL for a marker lease (taken with SET NX after a miss). KEYS: value,
 * fence. ARGV: token, the encoded entry after its fence (from the first
 * comma; '' for no write), ttl ms, fence ttl ms, wake channel, publish
 * command, wake header, push limit (bytes), bus channel ('' for none), bus
 * message.
 *
 * Writes only while the value key still holds the token: whatever was
 * written since the acquire (a set, a delete's tombstone, an expire's)
 * replaced it and is newer than this load, so it stands. The fence is taken
 * here, above the counter and the clock (nothing is stored to be above:
 * the key held the marker). The wake-up always goes out, since nobody else
 * will announce this token, and carries the entry (at most the push limit)
 * whether or not someone waits: a waiter can't mark a plain-SET lease.
 * Returns {written, released, fence ('' when not written)}.
 */
export const FILL_MARKED = script(
  'fillMarked',
  `${NEXT_FENCE}${OWNS}${WITH_FENCE}
local ok, current = pcall(redis.call, 'GET', KEYS[1])
local ours = ok and current == ARGV[1]
local written = 0
local fence = ''
if ours then
  if ARGV[2] == '' or ARGV[3] == '0' then
    redis.call('DEL', KEYS[1])
    if ARGV[2] ~= '' then written = 1 end
  else
    fence = string.format('%.0f', fenceAbove(KEYS[2], nil, ARGV[4]))
    redis.call('SET', KEYS[1], fence .. ARGV[2], 'PX', ARGV[3])
    written = 1
  end
end
local message = wakeMessage(ARGV[7], ARGV[1])
if fence ~= '' and string.len(fence) + string.len(ARGV[2]) <= tonumber(ARGV[8]) then
  message = message .. fence .. ARGV[2]
end
redis.call(ARGV[6], ARGV[5], message)
if ARGV[9] ~= '' and (written == 1 or ARGV[2] == '') then redis.call('PUBLISH', ARGV[9], withFence(ARGV[10], fence)) end
return {written, ours and 1 or 0, fence}`,
)

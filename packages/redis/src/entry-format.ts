import { HerdArgumentError, HerdDecodeError, type StoredEntry } from '@herd/core'

/**
 * A StoredEntry as one Redis string, so a hit is one GET:
 *
 *     <fence>,<createdAt>,<freshUntil>,<staleUntil>,<errorUntil>,<loadMs>,<negative 0|1>,<n>,<tags: n chars of JSON><codec output>
 *
 * The fence comes first so the Lua scripts can read it with one GETRANGE and
 * a pattern, without copying the value; the tags (a JSON array, absent when
 * n is 0) and the value come last, the tags length-prefixed, so both may
 * hold any characters (commas included).
 */
const FIELDS = 8

export function encodeEntry(entry: StoredEntry): string {
  const { fence, createdAt, freshUntil, staleUntil, errorUntil, loadMs } = entry
  if (!Number.isSafeInteger(fence) || fence < 0) {
    throw new HerdArgumentError(`@herd/redis: entry.fence must be a whole number >= 0; got ${String(fence)}`)
  }
  if (![createdAt, freshUntil, staleUntil, errorUntil, loadMs].every(Number.isFinite)) {
    throw new HerdArgumentError('@herd/redis: entry timestamps and loadMs must be finite numbers')
  }
  if (typeof entry.value !== 'string') {
    throw new HerdArgumentError('@herd/redis: entry.value must be the codec output (a string)')
  }
  const tags = entry.tags === undefined || entry.tags.length === 0 ? '' : JSON.stringify(entry.tags)
  return `${fence},${createdAt},${freshUntil},${staleUntil},${errorUntil},${loadMs},${entry.negative === true ? 1 : 0},${tags.length},${tags}${entry.value}`
}

/** The eight numbers at the head of an entry, parsed into here (decodeEntry is synchronous, so one buffer serves all). */
const head = new Float64Array(FIELDS)

export function decodeEntry(raw: string, key: string): StoredEntry {
  let start = 0
  for (let i = 0; i < FIELDS; i++) {
    const comma = raw.indexOf(',', start)
    const field = comma < 0 ? Number.NaN : numberAt(raw, start, comma)
    if (Number.isNaN(field)) throw new HerdDecodeError(`@herd/redis: the Redis value for "${key}" is not a herd entry`)
    head[i] = field
    start = comma + 1
  }
  const tagsLength = head[7]!
  const entry: StoredEntry = {
    value: raw.slice(start + tagsLength),
    fence: head[0]!,
    createdAt: head[1]!,
    freshUntil: head[2]!,
    staleUntil: head[3]!,
    errorUntil: head[4]!,
    loadMs: head[5]!,
  }
  if (head[6] === 1) entry.negative = true
  if (tagsLength > 0) entry.tags = parseTags(raw.slice(start, start + tagsLength), key)
  return entry
}

/**
 * `Number(raw.slice(start, end))` without the slice for the common case, a
 * safe whole number of at most 16 digits (fences are microsecond times,
 * the rest milliseconds): a hit decodes eight of them. Anything else (a
 * fraction, a sign, more digits) takes `Number`, so the result is the same
 * either way.
 */
function numberAt(raw: string, start: number, end: number): number {
  if (end === start || end - start > 16) return Number(raw.slice(start, end))
  let n = 0
  for (let i = start; i < end; i++) {
    const digit = raw.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return Number(raw.slice(start, end))
    n = n * 10 + digit
  }
  // Digits past 2^53 were added inexactly; Number rounds them as it should.
  return n <= Number.MAX_SAFE_INTEGER ? n : Number(raw.slice(start, end))
}

function parseTags(json: string, key: string): string[] {
  let tags: unknown
  try {
    tags = JSON.parse(json)
  } catch {
    tags = undefined
  }
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
    throw new HerdDecodeError(`@herd/redis: the Redis value for "${key}" has unreadable tags`)
  }
  return tags as string[]
}

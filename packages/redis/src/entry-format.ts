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

export function decodeEntry(raw: string, key: string): StoredEntry {
  const fields: number[] = []
  let start = 0
  for (let i = 0; i < FIELDS; i++) {
    const comma = raw.indexOf(',', start)
    if (comma < 0) break
    fields.push(Number(raw.slice(start, comma)))
    start = comma + 1
  }
  if (fields.length !== FIELDS || fields.some(Number.isNaN)) {
    throw new HerdDecodeError(`@herd/redis: the Redis value for "${key}" is not a herd entry`)
  }
  const [fence, createdAt, freshUntil, staleUntil, errorUntil, loadMs, negative, tagsLength] = fields as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const entry: StoredEntry = { value: raw.slice(start + tagsLength), fence, createdAt, freshUntil, staleUntil, errorUntil, loadMs }
  if (negative === 1) entry.negative = true
  if (tagsLength > 0) entry.tags = parseTags(raw.slice(start, start + tagsLength), key)
  return entry
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

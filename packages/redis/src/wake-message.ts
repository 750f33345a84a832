import type { StoredEntry } from '@herd/core'
import { decodeEntry } from './entry-format.js'

/**
 * A wake-up on a wake channel: which key was released, and the entry the
 * holder wrote when it came along (the holder's fill had a waiter and the
 * entry was small enough):
 *
 *     <key length>:<key>[<encoded entry>]
 *
 * The length is in UTF-16 code units, as JavaScript counts; the header is
 * built here and the scripts only append the entry, so no byte counting in
 * Lua. An encoded entry is never empty, so nothing after the key means none.
 */
export function wakeHeader(key: string): string {
  return `${key.length}:${key}`
}

export interface Wake {
  readonly key: string
  readonly entry: StoredEntry | undefined
}

/** The wake-up in `message`, or undefined when it is not one (foreign traffic on the channel). */
export function parseWake(message: string): Wake | undefined {
  const colon = message.indexOf(':')
  if (colon <= 0) return undefined
  const length = Number(message.slice(0, colon))
  if (!Number.isSafeInteger(length) || length < 0 || colon + 1 + length > message.length) return undefined
  const key = message.slice(colon + 1, colon + 1 + length)
  const rest = message.slice(colon + 1 + length)
  if (rest === '') return { key, entry: undefined }
  try {
    return { key, entry: decodeEntry(rest, key) }
  } catch {
    // Woken all the same; the waiter reads the Store.
    return { key, entry: undefined }
  }
}

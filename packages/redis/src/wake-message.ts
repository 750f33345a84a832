import type { StoredEntry } from '@herd/core'
import { decodeEntry } from './entry-format.js'

/**
 * A wake-up on a wake channel: which key was released, whose lease it was,
 * and the entry the holder wrote when it came along (the holder's fill had
 * a waiter and the entry was small enough):
 *
 *     <key length>:<key><token length>:<token>[<encoded entry>]
 *
 * The key's length is in UTF-16 code units, as JavaScript counts: that
 * header is built here; the scripts append the token (ASCII) and the entry,
 * so no character counting in Lua. An encoded entry is never empty, so
 * nothing after the token means none.
 */
export function wakeHeader(key: string): string {
  return `${key.length}:${key}`
}

export interface Wake {
  readonly key: string
  /** The released lease's token: a waiter tells its holder's release from an older one. */
  readonly token: string
  /**
   * The entry the holder wrote, still encoded: every process on the channel
   * hears every wake-up, and only one that waits for the key decodes it
   * (`wakeEntry`).
   */
  readonly encoded: string | undefined
}

/** `<length>:<text>` at `at` in `message`: the text and where it ends, or undefined. */
function counted(message: string, at: number): { text: string; end: number } | undefined {
  const colon = message.indexOf(':', at)
  if (colon <= at) return undefined
  const length = Number(message.slice(at, colon))
  if (!Number.isSafeInteger(length) || length < 0 || colon + 1 + length > message.length) return undefined
  return { text: message.slice(colon + 1, colon + 1 + length), end: colon + 1 + length }
}

/** The wake-up in `message`, or undefined when it is not one (foreign traffic on the channel). */
export function parseWake(message: string): Wake | undefined {
  const key = counted(message, 0)
  const token = key && counted(message, key.end)
  if (key === undefined || token === undefined) return undefined
  return { key: key.text, token: token.text, encoded: token.end === message.length ? undefined : message.slice(token.end) }
}

/** The entry a wake-up carries, or undefined when it carries none or one that doesn't decode (woken all the same: the waiter reads the Store). */
export function wakeEntry(wake: Wake): StoredEntry | undefined {
  if (wake.encoded === undefined) return undefined
  try {
    return decodeEntry(wake.encoded, wake.key)
  } catch {
    return undefined
  }
}

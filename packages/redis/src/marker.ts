import { randomUUID } from 'node:crypto'

/**
 * A lease taken after a miss lives at the value key itself: the holder's
 * token, `~<uuid>`, set with `SET NX PX GET` (scripts.ts). An entry starts
 * with its fence's digits (entry-format.ts), so the first character tells
 * the two apart; `~` is 126, as the scripts' `isMarker` checks.
 */
const MARK = '~'

export function markerToken(): string {
  return `${MARK}${randomUUID()}`
}

/** Whether a value read at an entry's key (or a lease's token) is a marker: a key being loaded, no entry yet. */
export function isMarker(raw: string): boolean {
  return raw.charCodeAt(0) === 126
}

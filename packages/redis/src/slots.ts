/**
 * Redis Cluster's key → slot function (CRC16/XMODEM of the hash tag, mod
 * 16384), and for every slot a short tag that hashes to it: the per-slot
 * wake channel of a key is `<prefix>{<tag of its slot>}:wake`, so a script
 * can SPUBLISH it from the key's own node.
 */
export const SLOTS = 16_384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

const encoder = new TextEncoder()

/** The slot of a hash tag (the text between the braces). */
export function slotOf(tag: string): number {
  return crc16(encoder.encode(tag)) % SLOTS
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
let tags: string[] | undefined

/**
 * A tag that hashes to `slot`: the first of 0, 1, … (base 36) that does.
 * The table is built once, on first use, in a few ms: CRCs of the
 * candidates are computed on their ASCII codes directly, each from its
 * prefix's, without encoding a string per candidate.
 */
export function tagOfSlot(slot: number): string {
  tags ??= buildTags()
  return tags[slot]!
}

function buildTags(): string[] {
  const found = new Array<string>(SLOTS)
  let missing = SLOTS
  // Candidates of `length` base-36 digits (no leading zero beyond '0' itself), breadth first.
  let prefixes: Array<{ text: string; crc: number }> = [{ text: '', crc: 0 }]
  for (let length = 1; missing > 0; length++) {
    const next: Array<{ text: string; crc: number }> = []
    for (const prefix of prefixes) {
      for (let d = 0; d < 36; d++) {
        if (d === 0 && prefix.text === '' && length > 1) continue
        const code = DIGITS.charCodeAt(d)
        const crc = ((prefix.crc << 8) & 0xffff) ^ TABLE[((prefix.crc >> 8) ^ code) & 0xff]!
        const text = prefix.text + DIGITS[d]!
        const s = crc % SLOTS
        if (found[s] === undefined) {
          found[s] = text
          if (--missing === 0) return found
        }
        if (length < 4) next.push({ text, crc })
      }
    }
    prefixes = next
  }
  return found
}

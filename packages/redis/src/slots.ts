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

let tags: string[] | undefined

/** A tag that hashes to `slot`: the first of 0, 1, … (base 36) that does. Built once, on first use. */
export function tagOfSlot(slot: number): string {
  if (tags === undefined) {
    const found: string[] = new Array<string>(SLOTS)
    let missing = SLOTS
    for (let n = 0; missing > 0; n++) {
      const candidate = n.toString(36)
      const s = slotOf(candidate)
      if (found[s] === undefined) {
        found[s] = candidate
        missing--
      }
    }
    tags = found
  }
  return tags[slot]!
}

/**
 * Turns values into the string a Store keeps. `encode` throws a TypeError
 * (ideally HerdEncodeError) for a value it can't round-trip, so nothing
 * half-encoded is ever stored; `decode` throws on bytes it can't read.
 */
export interface Codec {
  encode(value: unknown): string
  decode(data: string): unknown
}

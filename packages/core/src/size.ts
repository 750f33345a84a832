import { describe } from './duration.js'
import { HerdArgumentError } from './errors.js'

/** Bytes as a number, or a string such as '512b', '256kb', '64mb', '1gb' (powers of 1024). */
export type Size = number | string

const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i

/** Parses a size to whole bytes (> 0), or throws a HerdArgumentError naming the option. */
export function toBytes(value: Size, name: string): number {
  let bytes: number | undefined
  if (typeof value === 'number' && Number.isFinite(value)) bytes = Math.round(value)
  else if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    if (match) bytes = Math.round(Number(match[1]) * UNIT_BYTES[match[2]!.toLowerCase()]!)
  }
  if (bytes === undefined || bytes <= 0 || !Number.isSafeInteger(bytes)) {
    throw new HerdArgumentError(`herd: ${name} must be a number of bytes > 0 or a string like '256kb', '64mb'; got ${describe(value)}`)
  }
  return bytes
}

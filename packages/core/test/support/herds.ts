import { afterEach } from 'vitest'
import type { Herd } from '../../src/index.js'

/** Herds a test creates, closed after it: `const track = trackHerds()` at the top of a file. */
export function trackHerds(): <H extends Herd>(herd: H) => H {
  const herds: Herd[] = []
  afterEach(async () => {
    await Promise.all(herds.splice(0).map((h) => h.close()))
  })
  return (herd) => {
    herds.push(herd)
    return herd
  }
}

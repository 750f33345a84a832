import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { MapLock } from './support/map-lock.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let herd: Herd
afterEach(() => herd?.close())

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

describe('memory per load', () => {
  it('a loader that keeps its abort listener leaks nothing per load (under a lease too)', async () => {
    herd = createHerd({ lock: new MapLock(), local: { maxSize: 1 } })
    const loader = ({ signal }: { signal: AbortSignal }) => {
      signal.addEventListener('abort', () => {})
      return 'v'
    }
    const round = async (from: number) => {
      for (let i = from; i < from + 3_000; i++) await herd.fetch(`k${i}`, loader)
    }
    await round(0)
    const before = await heapAfterGc()
    await round(3_000)
    await round(6_000)
    const after = await heapAfterGc()
    // 1.2 KB kept per load before: 6,000 loads would have kept ~7 MB
    expect((after - before) / 6_000).toBeLessThan(100)
  }, 120_000)
})

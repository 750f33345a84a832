/**
 * Suite 7's worker, in its own process (run with --expose-gc) so nothing
 * else shares its heap. Pushes N distinct keys through one herd, measuring
 * heap and RSS after a full GC at checkpoints, then counts the cached values
 * still alive with a heap snapshot (every value is a CachedRow, so the count
 * of CachedRow objects is exactly the entries the herd retains).
 */
import { createHerd, type Herd } from '@herd/core'
import { memoryStore, type MemoryStore } from '@herd/memory'
import { fileURLToPath } from 'node:url'
import { getHeapSnapshot } from 'node:v8'

export interface MemoryRequest {
  variant: 'local' | 'store'
  keys: number
  maxSize: number
  concurrency: number
  timeLimitMs: number
}

export interface Checkpoint {
  keys: number
  heapUsed: number
  rss: number
  elapsedMs: number
}

export interface MemoryReport {
  checkpoints: Checkpoint[]
  keysDone: number
  timedOut: boolean
  /** CachedRow objects alive at the end: values the herd still holds. */
  valuesRetained: number
  /** What the herd's own structures report (store.size is public; local size read from the pipeline for the report). */
  storeSize?: number
  localSize?: number
  flights?: number
}

class CachedRow {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly email: string,
  ) {}
}

async function collect(): Promise<{ heapUsed: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('memory child needs --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, rss: m.rss }
}

async function countAlive(className: string): Promise<number> {
  const chunks: Buffer[] = []
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer)
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = snapshot.snapshot.meta.node_fields
  const stride = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object')
  const nameIndex = snapshot.strings.indexOf(className)
  let count = 0
  for (let i = 0; i < snapshot.nodes.length; i += stride) {
    if (snapshot.nodes[i + typeAt] === objectType && snapshot.nodes[i + nameAt] === nameIndex) count++
  }
  return count
}

export async function measureMemory(req: MemoryRequest): Promise<MemoryReport> {
  let store: MemoryStore | undefined
  let herd: Herd
  if (req.variant === 'store') {
    store = memoryStore({ maxSize: req.maxSize })
    herd = createHerd({ store, local: { maxSize: Math.max(1, Math.floor(req.maxSize / 10)) }, ttl: '1h' })
  } else {
    herd = createHerd({ local: { maxSize: req.maxSize }, ttl: '1h' })
  }
  const marks = new Set([10_000, 100_000, 250_000, 500_000, 750_000, req.keys].filter((k) => k <= req.keys))
  const checkpoints: Checkpoint[] = []
  const started = performance.now()
  checkpoints.push({ keys: 0, ...(await collect()), elapsedMs: 0 })
  let next = 0
  let done = 0
  let timedOut = false
  const loader = ({ key }: { key: string }) => {
    const id = Number(key.slice(5))
    return new CachedRow(id, `User ${id}`, `user${id}@example.com`)
  }
  while (done < req.keys) {
    const stop = Math.min(req.keys, Math.min(...[...marks].filter((m) => m > done)))
    const worker = async () => {
      while (next < stop) {
        const i = next++
        await herd.fetch(`user:${i}`, loader)
      }
    }
    await Promise.all(Array.from({ length: req.concurrency }, worker))
    done = stop
    checkpoints.push({ keys: done, ...(await collect()), elapsedMs: performance.now() - started })
    if (performance.now() - started > req.timeLimitMs) {
      timedOut = done < req.keys
      break
    }
  }
  const valuesRetained = await countAlive('CachedRow')
  // Internals, read only for this report: the local tier's size and in-flight loads are not public API.
  const internals = (herd as unknown as { h?: { local?: { size: number }; flights?: Map<string, unknown> } }).h
  const report: MemoryReport = {
    checkpoints,
    keysDone: done,
    timedOut,
    valuesRetained,
    storeSize: store?.size,
    localSize: internals?.local?.size,
    flights: internals?.flights?.size,
  }
  await herd.close()
  return report
}

// Only as a child process's entry point, never when imported.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (req: MemoryRequest) => {
    measureMemory(req).then(
      (report) => process.send!({ type: 'report', report }, () => process.exit(0)),
      (error: unknown) => process.send!({ type: 'failed', message: String((error as Error)?.stack ?? error) }, () => process.exit(1)),
    )
  })
}

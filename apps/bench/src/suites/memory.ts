/**
 * Suite 7 — memory. 1,000,000 distinct keys through a herd whose local tier
 * is bounded (10,000 entries): heap and RSS after a full GC at checkpoints,
 * and the values still retained at the end. Flat means the heap after a
 * million keys is what it was after the first hundred thousand.
 */
import { fileURLToPath } from 'node:url'
import { nextMessage, spawnTs, stopChild } from '../lib/children.js'
import { int, mb } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { Table, TargetCheck } from '../lib/report.js'
import { begin } from '../lib/suite-result.js'
import type { MemoryReport, MemoryRequest } from './memory-child.js'
import type { RunOptions, Suite } from './types.js'

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url))

async function runChild(req: MemoryRequest): Promise<MemoryReport> {
  const child = spawnTs(CHILD, ['--expose-gc'])
  try {
    const reply = nextMessage(
      child,
      (m): m is { type: 'report'; report: MemoryReport } => m?.type === 'report',
      req.timeLimitMs + 60_000,
      `memory ${req.variant}`,
    )
    child.send(req)
    return (await reply).report
  } finally {
    await stopChild(child)
  }
}

function variants(maxSize: number) {
  return [
    {
      variant: 'local' as const,
      name: `herd, local tier only (local.maxSize ${int(maxSize)})`,
      config: `createHerd({ local: { maxSize: ${maxSize} }, ttl: '1h' })`,
    },
    {
      variant: 'store' as const,
      name: `herd + memoryStore (maxSize ${int(maxSize)}, local ${int(maxSize / 10)})`,
      config: `createHerd({ store: memoryStore({ maxSize: ${maxSize} }), local: { maxSize: ${maxSize / 10} }, ttl: '1h' })`,
    },
  ]
}

export const memory: Suite = {
  name: 'memory',
  aliases: ['7', 'mem'],
  title: '7. Memory: a million distinct keys',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const keys = options.smoke ? 20_000 : 1_000_000
    const maxSize = options.smoke ? 1_000 : 10_000
    const timeLimitMs = options.smoke ? 30_000 : 150_000
    const VARIANTS = variants(maxSize)
    const p = progress(this.name)
    const reports: Record<string, MemoryReport> = {}
    for (const v of VARIANTS) {
      if (options.only && !options.only.includes('herd')) continue
      p.step(`${v.name}: ${int(keys)} keys (a child process with --expose-gc)`)
      reports[v.name] = await runChild({ variant: v.variant, keys, maxSize, concurrency: 64, timeLimitMs })
    }
    p.done()
    const tables: Table[] = []
    const targets: TargetCheck[] = []
    for (const v of VARIANTS) {
      const r = reports[v.name]
      if (!r) continue
      const base = r.checkpoints[0]!
      tables.push({
        title: `${v.name}: heap and RSS after a full GC`,
        columns: ['keys fetched', 'heap used', 'heap vs start', 'RSS', 'elapsed'],
        rows: r.checkpoints.map((c) => [
          int(c.keys),
          mb(c.heapUsed),
          `${c.heapUsed >= base.heapUsed ? '+' : ''}${mb(c.heapUsed - base.heapUsed)}`,
          mb(c.rss),
          `${(c.elapsedMs / 1000).toFixed(1)} s`,
        ]),
        notes: [
          `values still alive at the end (heap snapshot count of the cached class): ${int(r.valuesRetained)}${r.localSize !== undefined ? `; local tier reports ${int(r.localSize)} entries` : ''}${r.storeSize !== undefined ? `; memoryStore.size ${int(r.storeSize)}` : ''}${r.flights !== undefined ? `; loads in flight ${r.flights}` : ''}`,
          ...(r.timedOut ? [`stopped at the time limit after ${int(r.keysDone)} keys`] : []),
        ],
      })
      const at100k = r.checkpoints.find((c) => c.keys >= Math.min(100_000, keys / 5)) ?? base
      const last = r.checkpoints[r.checkpoints.length - 1]!
      const growth = last.heapUsed - at100k.heapUsed
      const flat = growth <= Math.max(2 * 1024 * 1024, 0.1 * at100k.heapUsed)
      targets.push({
        target: `memory flat (${v.variant === 'local' ? 'local tier' : 'store + local tier'}): heap after ${int(last.keys)} keys within 10% (or 2 MB) of heap after ${int(at100k.keys)}`,
        measured: `${mb(at100k.heapUsed)} → ${mb(last.heapUsed)} (${growth >= 0 ? '+' : ''}${mb(growth)}); ${int(r.valuesRetained)} values retained`,
        met: flat && !r.timedOut,
      })
    }
    return clock.finish({
      settings: {
        keys,
        maxSize,
        concurrency: 64,
        valueShape: 'class CachedRow { id, name, email }',
        loader: 'synchronous (no DB): every fetch is a miss, a load and a write',
      },
      contenders: VARIANTS.map((v) => ({ name: v.name, config: v.config })),
      tables,
      targets,
      notes: ['Checkpoints are taken after three forced GCs (--expose-gc) in a process of its own.'],
      data: reports,
    })
  },
}

/**
 * Suite 1 — a stampede in one process. HerdLock's published scenario: a
 * database that runs at most 5 queries at once, ~20 ms each; 100 and then
 * 1,000 concurrent callers on one key that has just expired. Counts the
 * loader calls that reached the database and times every caller.
 */
import { IN_PROCESS, type Contender } from '../contenders/memory.js'
import { burst } from '../lib/burst.js'
import { Db, row } from '../lib/db.js'
import { int, ms, ratio } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { Table, TargetCheck } from '../lib/report.js'
import { latency, median, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import type { RunOptions, Suite } from './types.js'

interface Sample {
  loaderCalls: number
  totalMs: number
  p50: number
  p99: number
  errors: number
}

export async function stampedeOnce(contender: Contender, callers: number, db: Db): Promise<Sample> {
  const key = 'user:42'
  const instance = contender.create({ ttlMs: 100, staleMs: 0, load: (k) => db.query(() => row(k, db.queries)) })
  try {
    await instance.get(key) // cached once…
    await instance.waitExpired(key) // …and now expired
    db.reset()
    const result = await burst(callers, () => instance.get(key))
    const l = latency(result.latencies)
    return { loaderCalls: db.queries, totalMs: result.totalMs, p50: l.p50, p99: l.p99, errors: result.errors }
  } finally {
    await instance.close()
  }
}

export const stampede: Suite = {
  name: 'stampede',
  aliases: ['1', 'stampede-local'],
  title: '1. Stampede in one process',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 5)
    const sizes = options.smoke ? [100] : [100, 1_000]
    const contenders = IN_PROCESS.filter((c) => !options.only || options.only.includes(c.name))
    const p = progress(this.name)
    const samples: Record<number, Record<string, Sample[]>> = {}
    if (!options.smoke) {
      // One discarded round per library, so no library's first numbers include its JIT warm-up.
      for (const c of contenders) {
        p.step(`warm-up: ${c.name}`)
        await stampedeOnce(c, 100, new Db({ maxConcurrent: 5, queryMs: 20 }))
      }
    }
    for (const n of sizes) {
      samples[n] = {}
      for (let r = 0; r < rounds; r++) {
        for (const c of shuffle([...contenders])) {
          p.step(`${n} callers, round ${r + 1}/${rounds}: ${c.name}`)
          ;(samples[n]![c.name] ??= []).push(await stampedeOnce(c, n, new Db({ maxConcurrent: 5, queryMs: 20 })))
        }
      }
    }
    p.done()

    const tables: Table[] = []
    const targets: TargetCheck[] = []
    for (const n of sizes) {
      const med = (name: string, field: keyof Sample) => median(samples[n]![name]!.map((s) => s[field]))
      const herdTotal = med('herd', 'totalMs')
      tables.push({
        title: `${int(n)} concurrent callers on one expired key (DB: 5 connections, 20 ms a query; median of ${rounds} round${rounds > 1 ? 's' : ''})`,
        columns: ['library', 'loader calls', 'all callers done', 'caller p50', 'caller p99', 'total vs herd', 'errors'],
        rows: contenders.map((c) => [
          c.name,
          int(med(c.name, 'loaderCalls')),
          ms(med(c.name, 'totalMs')),
          ms(med(c.name, 'p50')),
          ms(med(c.name, 'p99')),
          ratio(med(c.name, 'totalMs') / herdTotal),
          int(med(c.name, 'errors')),
        ]),
        notes: [
          'loader calls = queries that reached the database after expiry; the minimum possible is 1.',
          '"total vs herd" > 1 means slower than herd.',
        ],
      })
      const calls = samples[n]!.herd?.map((s) => s.loaderCalls) ?? []
      targets.push({
        target: `exactly 1 loader call, ${int(n)} callers (every round)`,
        measured: calls.length ? `${[...new Set(calls)].join(', ')} (rounds: ${calls.length})` : 'not run',
        met: calls.length ? calls.every((c) => c === 1) : null,
      })
    }
    return clock.finish({
      settings: {
        rounds,
        callers: sizes,
        db: { maxConcurrent: 5, queryMs: 20 },
        ttlMs: 100,
        arrival: 'one macrotask per caller, all in one event-loop turn',
      },
      contenders: contenders.map((c) => ({ name: c.name, config: c.describe({ ttlMs: 100, staleMs: 0, load: async () => 0 }) })),
      tables,
      targets,
      notes: [],
      data: samples,
    })
  },
}

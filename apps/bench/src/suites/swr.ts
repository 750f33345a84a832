/**
 * Suite 3 — stale-while-revalidate. One key just past its ttl, well inside
 * its stale window; 1,000 concurrent callers. Every caller should get the
 * stale value at once (p99 under 1 ms) while exactly one refresh runs.
 */
import { IN_PROCESS, type Contender } from '../contenders/memory.js'
import { burst, sleep } from '../lib/burst.js'
import { Db, row } from '../lib/db.js'
import { int, ms, pct, ratio } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { TargetCheck } from '../lib/report.js'
import { latency, median, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import type { RunOptions, Suite } from './types.js'

interface Sample {
  refreshes: number
  p50: number
  p99: number
  max: number
  /** Callers answered within 1 ms (served the stale value rather than waiting for the load). */
  servedAtOnce: number
  totalMs: number
  errors: number
}

const TTL_MS = 100
const STALE_MS = 60_000

export async function swrOnce(contender: Contender, callers: number): Promise<Sample> {
  const key = 'product:7'
  const db = new Db({ maxConcurrent: 5, queryMs: 20 })
  const instance = contender.create({ ttlMs: TTL_MS, staleMs: STALE_MS, load: (k) => db.query(() => row(k, db.queries)) })
  try {
    await instance.get(key)
    await instance.waitExpired(key)
    db.reset()
    const result = await burst(callers, () => instance.get(key))
    // Let the background refresh (20 ms query) land before counting.
    await sleep(150)
    const l = latency(result.latencies)
    return {
      refreshes: db.queries,
      p50: l.p50,
      p99: l.p99,
      max: l.max,
      servedAtOnce: result.latencies.filter((t) => t < 1).length / callers,
      totalMs: result.totalMs,
      errors: result.errors,
    }
  } finally {
    await instance.close()
  }
}

export const swr: Suite = {
  name: 'swr',
  aliases: ['3', 'stale'],
  title: '3. Stale-while-revalidate',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 5)
    const callers = options.smoke ? 200 : 1_000
    const contenders = IN_PROCESS.filter((c) => !options.only || options.only.includes(c.name))
    const p = progress(this.name)
    const samples: Record<string, Sample[]> = {}
    if (!options.smoke) {
      for (const c of contenders) {
        if (c.name === 'async-cache-dedupe') continue // its warm-up costs 3 s; its hit path is warm from the others' rounds anyway
        p.step(`warm-up: ${c.name}`)
        await swrOnce(c, 100)
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const c of shuffle([...contenders])) {
        p.step(`round ${r + 1}/${rounds}: ${c.name}`)
        ;(samples[c.name] ??= []).push(await swrOnce(c, callers))
      }
    }
    p.done()
    const med = (name: string, field: keyof Sample) => median(samples[name]!.map((s) => s[field]))
    const herdP99 = med('herd', 'p99')
    const refreshes = samples.herd?.map((s) => s.refreshes) ?? []
    const targets: TargetCheck[] = [
      {
        target: `exactly 1 refresh per expiry, ${int(callers)} callers (every round)`,
        measured: refreshes.length ? `${[...new Set(refreshes)].join(', ')} (rounds: ${refreshes.length})` : 'not run',
        met: refreshes.length ? refreshes.every((n) => n === 1) : null,
      },
      {
        target: 'stale hit p99 < 1 ms',
        measured: samples.herd ? ms(herdP99) : 'not run',
        met: samples.herd ? herdP99 < 1 : null,
      },
    ]
    return clock.finish({
      settings: {
        rounds,
        callers,
        ttlMs: TTL_MS,
        staleWhileRevalidateMs: STALE_MS,
        db: { maxConcurrent: 5, queryMs: 20 },
        arrival: 'one macrotask per caller, all in one event-loop turn',
      },
      contenders: contenders.map((c) => ({
        name: c.name,
        config: `${c.describe({ ttlMs: TTL_MS, staleMs: STALE_MS, load: async () => 0 })} [stale window: ${c.swr}]`,
      })),
      tables: [
        {
          title: `${int(callers)} concurrent callers on a stale key (ttl ${TTL_MS} ms passed, stale window ${STALE_MS / 1000} s; median of ${rounds} round${rounds > 1 ? 's' : ''})`,
          columns: ['library', 'refreshes (loader calls)', 'caller p50', 'caller p99', 'p99 vs herd', 'caller max', 'answered < 1 ms', 'errors'],
          rows: contenders.map((c) => [
            c.name,
            int(med(c.name, 'refreshes')),
            ms(med(c.name, 'p50')),
            ms(med(c.name, 'p99')),
            ratio(med(c.name, 'p99') / herdP99),
            ms(med(c.name, 'max')),
            pct(med(c.name, 'servedAtOnce')),
            int(med(c.name, 'errors')),
          ]),
          notes: [
            "A caller's latency runs from its own call to its own result (each caller is its own macrotask).",
            'cache-manager has no stale window past ttl; its closest documented feature is refreshThreshold (refresh in the background when less than that is left), configured to the same window.',
            'naive cache-aside has no stale window: every caller misses and queries.',
          ],
        },
      ],
      targets,
      notes: [],
      data: samples,
    })
  },
}

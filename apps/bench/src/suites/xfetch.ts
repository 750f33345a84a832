/**
 * Suite 4 — early refresh over time. Steady traffic on a few keys across many
 * ttl periods, with no stale window: when a key expires, callers wait for the
 * reload unless someone recomputed it early. XFetch (Vattani, Chierichetti
 * and Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB
 * 2015) volunteers one caller early with probability growing as expiry nears,
 * scaled by beta and the last load time; the paper argues beta = 1 already
 * prevents nearly all stampedes. herd at several betas, and cache-manager's
 * deterministic refreshThreshold as the peer reference.
 */
import { cacheManager, herd, type CacheInstance, type Contender } from '../contenders/memory.js'
import { sleep } from '../lib/burst.js'
import { Db, row } from '../lib/db.js'
import { int, ms, pct } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { TargetCheck } from '../lib/report.js'
import { median, percentile, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import type { RunOptions, Suite } from './types.js'

const TTL_MS = 200
const QUERY_MS = 20
/** A caller that took this long waited for a load (a hit or stale answer takes microseconds). */
const WAITED_MS = QUERY_MS / 2

interface Variant {
  name: string
  contender: Contender
  beta?: number
  refreshThresholdMs?: number
}

const VARIANTS: readonly Variant[] = [
  { name: 'herd beta 0 (no early refresh)', contender: herd, beta: 0 },
  { name: 'herd beta 0.5', contender: herd, beta: 0.5 },
  { name: 'herd beta 1 (default)', contender: herd, beta: 1 },
  { name: 'herd beta 2', contender: herd, beta: 2 },
  { name: `cache-manager refreshThreshold ${2 * QUERY_MS} ms`, contender: cacheManager, refreshThresholdMs: 2 * QUERY_MS },
]

interface Sample {
  callers: number
  waited: number
  /** Expiries that made at least one caller wait (a key's waiting callers within one ttl count once). */
  stampedes: number
  /** ttl periods that passed, summed over keys. */
  periods: number
  loaderCalls: number
  earlyRefreshes: number
  p99: number
}

async function steady(
  instance: CacheInstance,
  keys: readonly string[],
  durationMs: number,
  intervalMs: number,
): Promise<{ callers: number; waits: Array<{ key: string; at: number }>; latencies: number[] }> {
  const waits: Array<{ key: string; at: number }> = []
  const latencies: number[] = []
  let callers = 0
  const timer = setInterval(() => {
    for (const key of keys) {
      callers++
      const t0 = performance.now()
      void instance.get(key).then(() => {
        const took = performance.now() - t0
        latencies.push(took)
        if (took >= WAITED_MS) waits.push({ key, at: t0 })
      })
    }
  }, intervalMs)
  await sleep(durationMs)
  clearInterval(timer)
  await sleep(QUERY_MS * 5)
  return { callers, waits, latencies }
}

export async function xfetchOnce(v: Variant, durationMs: number, keyCount: number, intervalMs: number): Promise<Sample> {
  const db = new Db({ maxConcurrent: 5, queryMs: QUERY_MS })
  const setup = {
    ttlMs: TTL_MS,
    staleMs: 0,
    load: (k: string) => db.query(() => row(k, db.queries)),
    herd: v.beta === undefined ? undefined : { beta: v.beta },
    refreshThresholdMs: v.refreshThresholdMs,
  }
  const instance = v.contender.create(setup)
  const keys = Array.from({ length: keyCount }, (_, i) => `hot:${i}`)
  try {
    await Promise.all(keys.map((k) => instance.get(k)))
    db.reset()
    const before = instance.stats?.()
    const { callers, waits, latencies } = await steady(instance, keys, durationMs, intervalMs)
    const after = instance.stats?.()
    let stampedes = 0
    const lastWait = new Map<string, number>()
    for (const w of waits.sort((a, b) => a.at - b.at)) {
      const prev = lastWait.get(w.key)
      if (prev === undefined || w.at - prev > TTL_MS / 2) stampedes++
      lastWait.set(w.key, w.at)
    }
    return {
      callers,
      waited: waits.length,
      stampedes,
      periods: Math.round((durationMs / TTL_MS) * keyCount),
      loaderCalls: db.queries,
      earlyRefreshes: after && before ? after.earlyRefreshes! - before.earlyRefreshes! : NaN,
      p99: percentile(latencies, 99),
    }
  } finally {
    await instance.close()
  }
}

export const xfetch: Suite = {
  name: 'xfetch',
  aliases: ['4', 'early'],
  title: '4. Early refresh (XFetch) over time',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 3)
    const durationMs = options.smoke ? 1_000 : 6_000
    const keyCount = options.smoke ? 4 : 10
    const intervalMs = 2
    const variants = VARIANTS.filter((v) => !options.only || options.only.includes(v.contender.name))
    const p = progress(this.name)
    const samples: Record<string, Sample[]> = {}
    for (let r = 0; r < rounds; r++) {
      for (const v of shuffle([...variants])) {
        p.step(`round ${r + 1}/${rounds}: ${v.name} (${durationMs / 1000} s)`)
        ;(samples[v.name] ??= []).push(await xfetchOnce(v, durationMs, keyCount, intervalMs))
      }
    }
    p.done()
    const med = (name: string, field: keyof Sample) => median(samples[name]!.map((s) => s[field]))
    const beta1 = samples['herd beta 1 (default)']
    const beta0 = samples['herd beta 0 (no early refresh)']
    const targets: TargetCheck[] = []
    if (beta1 && beta0) {
      const s1 = med('herd beta 1 (default)', 'stampedes')
      const s0 = med('herd beta 0 (no early refresh)', 'stampedes')
      targets.push({
        target: "XFetch paper: beta 1 prevents nearly all stampedes (≤ 5% of beta 0's)",
        measured: `${int(s1)} expiries with waiting callers vs ${int(s0)} at beta 0`,
        met: s1 <= Math.max(0.05 * s0, 0),
      })
    }
    return clock.finish({
      settings: {
        rounds,
        durationMs,
        keys: keyCount,
        requestEveryMs: intervalMs,
        ttlMs: TTL_MS,
        staleWhileRevalidateMs: 0,
        db: { maxConcurrent: 5, queryMs: QUERY_MS },
        waitedThresholdMs: WAITED_MS,
      },
      contenders: variants.map((v) => ({
        name: v.name,
        config: v.contender.describe({
          ttlMs: TTL_MS,
          staleMs: 0,
          load: async () => 0,
          herd: v.beta === undefined ? undefined : { beta: v.beta },
          refreshThresholdMs: v.refreshThresholdMs,
        }),
      })),
      tables: [
        {
          title: `${keyCount} keys, one request per key every ${intervalMs} ms for ${durationMs / 1000} s (ttl ${TTL_MS} ms, no stale window, ${QUERY_MS} ms loads; median of ${rounds} round${rounds > 1 ? 's' : ''})`,
          columns: [
            'variant',
            'callers',
            'callers that waited',
            'expiries that stalled callers',
            'ttl periods',
            'early recomputes',
            'loader calls',
            'caller p99',
          ],
          rows: variants.map((v) => [
            v.name,
            int(med(v.name, 'callers')),
            `${int(med(v.name, 'waited'))} (${pct(med(v.name, 'waited') / med(v.name, 'callers'))})`,
            int(med(v.name, 'stampedes')),
            int(med(v.name, 'periods')),
            Number.isNaN(med(v.name, 'earlyRefreshes')) ? 'n/a' : int(med(v.name, 'earlyRefreshes')),
            int(med(v.name, 'loaderCalls')),
            ms(med(v.name, 'p99')),
          ]),
          notes: [
            `"waited" = the call took ≥ ${WAITED_MS} ms, i.e. it waited for a load rather than being answered from cache.`,
            '"expiries that stalled callers" groups a key\'s waiting callers within half a ttl into one event: the stampedes XFetch is meant to prevent (with single flight, each costs one load, not one per caller).',
            "herd's ttl carries its default jitter (0.1), so periods are 180–200 ms.",
          ],
        },
      ],
      targets,
      notes: [],
      data: samples,
    })
  },
}

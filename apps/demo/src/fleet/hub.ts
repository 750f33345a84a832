import { setTimeout as sleep } from 'node:timers/promises'
import { fire } from '../burst.js'
import { HOT_KEY } from '../catalog.js'
import type { Database } from '../db/index.js'
import { StatusError } from '../errors.js'
import { percentile } from './metrics.js'
import { NO_COUNTS } from './telemetry.js'
import type { BurstOptions, BurstResult, Fleet, FleetEvent, FleetInfo, Sample, Tick, WorkerHandle } from './types.js'

const TICK_MS = 1_000
const BURST_DEADLINE_MS = 60_000

/**
 * The fleet's centre, in the only process that sees all of it (the cluster
 * primary, or the single process): owns the database and its budget, merges
 * every process's metrics into one tick a second, and runs bursts against
 * the service from outside its request handlers.
 */
export class Hub {
  private readonly workers = new Set<WorkerHandle>()
  private readonly listeners = new Set<(event: FleetEvent) => void>()
  private timer: NodeJS.Timeout | undefined
  private lastTick = { at: Date.now(), dbCompleted: 0 }
  private ticking = false
  private bursting = false
  /** The Express URL bursts are sent to, known once the service listens. */
  target: string | undefined

  constructor(
    private readonly db: Database,
    readonly info: FleetInfo,
  ) {}

  addWorker(worker: WorkerHandle): void {
    this.workers.add(worker)
  }

  start(): void {
    this.lastTick = { at: Date.now(), dbCompleted: this.db.stats().completed }
    this.timer = setInterval(() => void this.tick(), TICK_MS)
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The Fleet an HTTP app in this same process talks to. */
  localFleet(): Fleet {
    return {
      info: this.info,
      query: (label, sql, params) => this.db.query(label, sql, params),
      dbStats: async () => this.db.stats(),
      burst: (options) => this.burst(options),
      subscribe: (listener) => this.subscribe(listener),
    }
  }

  async burst(options: BurstOptions): Promise<BurstResult> {
    if (this.bursting) throw new StatusError(409, 'a burst is already running')
    if (!this.target) throw new StatusError(503, 'the service is not listening yet')
    this.bursting = true
    this.emit({ type: 'burst-start', data: options })
    try {
      const result = await this.runBurst(this.target, options)
      this.emit({ type: 'burst', data: result })
      return result
    } catch (error) {
      this.emit({ type: 'burst-error', data: { message: (error as Error).message } })
      throw error
    } finally {
      this.bursting = false
    }
  }

  close(): void {
    clearInterval(this.timer)
    this.listeners.clear()
  }

  private async runBurst(target: string, options: BurstOptions): Promise<BurstResult> {
    // Every process first holds the hot key, then every process sees it expire:
    // with in-memory backends each process has its own copy to expire.
    for (const step of ['warm', 'expire'] as const) {
      await Promise.all([...this.workers].map((worker) => worker.prepare({ step, ...options })))
    }
    await this.db.idle(10_000)
    const before = this.db.stats().byLabel[HOT_KEY] ?? 0

    const path = options.protect ? '/api/leaderboard' : '/api/naive/leaderboard'
    const fired = await fire(new URL(path, target).href, options.count, BURST_DEADLINE_MS)

    // A stale-while-revalidate refresh may still be running after the last response: count it too.
    await sleep(100)
    await this.db.idle(10_000)
    return {
      ...options,
      queries: (this.db.stats().byLabel[HOT_KEY] ?? 0) - before,
      ok: fired.ok,
      failed: fired.failed,
      durationMs: Math.round(fired.durationMs),
      latency: { p50: round(percentile(fired.latencies, 50)), p99: round(percentile(fired.latencies, 99)) },
      servedBy: fired.servedBy,
      finishedAt: Date.now(),
    }
  }

  private emit(event: FleetEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  private async tick(): Promise<void> {
    if (this.ticking) return // a slow collection (a process busy with a burst) skips a tick rather than piling up
    this.ticking = true
    try {
      const samples = await Promise.all([...this.workers].map((worker) => worker.collect().catch(() => undefined)))
      const now = Date.now()
      const db = this.db.stats()
      const seconds = Math.max(0.001, (now - this.lastTick.at) / 1000)
      const merged = merge(samples.filter((s): s is Sample => s !== undefined))
      const { hit, stale, coalesced, miss } = merged.herd
      const outcomes = hit + stale + coalesced + miss
      const tick: Tick = {
        at: now,
        workers: this.workers.size,
        requestsPerSec: round(merged.requests / seconds),
        fetchesPerSec: { hit: round(hit / seconds), stale: round(stale / seconds), coalesced: round(coalesced / seconds), miss: round(miss / seconds) },
        loadsPerSec: round((merged.herd.loads + merged.herd.refreshes) / seconds),
        dbQueriesPerSec: round((db.completed - this.lastTick.dbCompleted) / seconds),
        ratios: outcomes === 0 ? null : { hit: hit / outcomes, stale: stale / outcomes, coalesced: coalesced / outcomes, miss: miss / outcomes },
        latency: merged.latencies.length === 0 ? null : { p50: round(percentile(merged.latencies, 50)), p99: round(percentile(merged.latencies, 99)) },
        herd: merged.herd,
        totals: merged.totals,
        db,
      }
      this.lastTick = { at: now, dbCompleted: db.completed }
      this.emit({ type: 'tick', data: tick })
    } finally {
      this.ticking = false
    }
  }
}

function merge(samples: Sample[]): Sample {
  const out: Sample = { requests: 0, latencies: [], herd: { ...NO_COUNTS }, totals: {} }
  for (const sample of samples) {
    out.requests += sample.requests
    out.latencies.push(...sample.latencies)
    for (const [name, n] of Object.entries(sample.herd) as Array<[keyof Sample['herd'], number]>) out.herd[name] += n
    for (const [name, n] of Object.entries(sample.totals)) out.totals[name] = (out.totals[name] ?? 0) + n
  }
  out.latencies.sort((a, b) => a - b)
  return out
}

const round = (n: number) => Math.round(n * 10) / 10

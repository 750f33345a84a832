import type { BurstMode, Query } from '../catalog.js'
import type { DbStats } from '../db/index.js'
import type { HerdCounts } from './telemetry.js'

/** What the dashboard says about the setup. */
export interface FleetInfo {
  database: string
  budget: number
  backend: 'memory' | 'redis'
  workers: number
  hotKey: string
  maxBurst: number
}

/** One process's traffic since its last sample. */
export interface Sample {
  requests: number
  /** Latencies of API requests (ms); a uniform sample when there were very many. */
  latencies: number[]
  /** What herd did since the last sample, from @herd/otel's metrics. */
  herd: HerdCounts
  /** Cumulative counters from herd.stats(). */
  totals: Record<string, number>
}

/** Once a second, fleet-wide, to every dashboard. */
export interface Tick {
  at: number
  workers: number
  /** API requests answered per second. */
  requestsPerSec: number
  /** herd.fetch calls per second by how they were answered (from @herd/otel's herd.fetches). */
  fetchesPerSec: { hit: number; stale: number; coalesced: number; miss: number }
  /** Loader runs per second, foreground and background (from @herd/otel's herd.load.duration count). */
  loadsPerSec: number
  /** Queries the database finished per second (those queued for a connection count when they ran). */
  dbQueriesPerSec: number
  /** Shares of herd.fetch outcomes in the last second; null when there were none. */
  ratios: { hit: number; stale: number; coalesced: number; miss: number } | null
  /** Server-side latency of API requests (arrival to response finished), this second; null when there were none. */
  latency: { p50: number; p99: number } | null
  /** herd's counts in this tick (loads, refreshes, lock waits, fenced-out writes included). */
  herd: HerdCounts
  totals: Record<string, number>
  db: DbStats
}

export interface BurstOptions {
  protect: boolean
  mode: BurstMode
  count: number
}

export interface BurstResult extends BurstOptions {
  /** Leaderboard queries the burst caused, background refreshes included. */
  queries: number
  ok: number
  failed: number
  durationMs: number
  latency: { p50: number; p99: number }
  /** Requests served by each process (by pid): the burst is spread over all of them. */
  servedBy: Record<string, number>
  finishedAt: number
}

export type FleetEvent =
  | { type: 'tick'; data: Tick }
  | { type: 'burst-start'; data: BurstOptions }
  | { type: 'burst'; data: BurstResult }
  | { type: 'burst-error'; data: { message: string } }

/** What an HTTP process needs from the fleet: the shared database, the burst runner, and the live feed. */
export interface Fleet {
  info: FleetInfo
  query: Query
  dbStats(): Promise<DbStats>
  burst(options: BurstOptions): Promise<BurstResult>
  subscribe(listener: (event: FleetEvent) => void): () => void
}

/** A burst's preparation, run on every process: warm the hot key everywhere, then expire it everywhere. */
export interface PrepareStep {
  step: 'warm' | 'expire'
  protect: boolean
  mode: BurstMode
}

/** What the fleet needs from each HTTP process. */
export interface WorkerHandle {
  collect(): Promise<Sample>
  prepare(step: PrepareStep): Promise<void>
}

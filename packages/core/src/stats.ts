import type { BreakerState } from './events.js'

/** Counters since the herd was created: what users graph. */
export interface HerdStats {
  hits: { local: number; store: number }
  /** Stale values served, by reason. */
  stale: { revalidate: number; error: number; timeout: number; backoff: number }
  misses: number
  /** Callers that joined work already under way instead of starting their own. */
  coalesced: number
  /** Loader runs (foreground and background), failures and total time. */
  loads: number
  loadErrors: number
  loadMsTotal: number
  /** Background refreshes started (stale, early, schedule, timeout) and those that failed. */
  refreshes: number
  refreshErrors: number
  earlyRefreshes: number
  timeouts: number
  negativeHits: number
  fallbacks: number
  lockWaits: number
  lockWaitMsTotal: number
  /** Writes refused by the Store because a newer fence had written. */
  fencedOut: number
  errors: number
  /** Writes and invalidations that could not reach the shared tier or the Bus: waiting now, and what became of the others. */
  recovery: { pending: number; queued: number; replayed: number; superseded: number; dropped: number }
  breaker: { state: BreakerState; opens: number }
  /** What this process's local tier holds right now. */
  local: { size: number; bytes: number }
  /** Background refreshes right now: running (a refresh a caller waits on may run past the bound), and waiting for a turn (maxConcurrentRefreshes). */
  refreshQueue: { running: number; waiting: number }
  /** (local + store hits + stale serves) / requests. */
  hitRatio: number
  /** coalesced / requests. */
  coalescedRatio: number
  requests: number
}

export type Counters = Omit<HerdStats, 'breaker' | 'local' | 'refreshQueue' | 'hitRatio' | 'coalescedRatio' | 'requests'>

export function newCounters(): Counters {
  return {
    hits: { local: 0, store: 0 },
    stale: { revalidate: 0, error: 0, timeout: 0, backoff: 0 },
    misses: 0,
    coalesced: 0,
    loads: 0,
    loadErrors: 0,
    loadMsTotal: 0,
    refreshes: 0,
    refreshErrors: 0,
    earlyRefreshes: 0,
    timeouts: 0,
    negativeHits: 0,
    fallbacks: 0,
    lockWaits: 0,
    lockWaitMsTotal: 0,
    fencedOut: 0,
    errors: 0,
    recovery: { pending: 0, queued: 0, replayed: 0, superseded: 0, dropped: 0 },
  }
}

export function snapshot(c: Counters, breaker: HerdStats['breaker'], local: HerdStats['local'], refreshQueue: HerdStats['refreshQueue']): HerdStats {
  const served = c.hits.local + c.hits.store + c.stale.revalidate + c.stale.error + c.stale.timeout + c.stale.backoff
  const requests = served + c.misses + c.coalesced
  return {
    ...structuredClone(c),
    breaker,
    local,
    refreshQueue,
    requests,
    hitRatio: requests === 0 ? 0 : served / requests,
    coalescedRatio: requests === 0 ? 0 : c.coalesced / requests,
  }
}

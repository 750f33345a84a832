import type { Entry } from './freshness.js'

/** -ln(Math.random()) never exceeds ~36.7 (53-bit randoms). */
const MAX_NEG_LOG_RANDOM = 37

/**
 * XFetch (Vattani et al., "Optimal Probabilistic Cache Stampede Prevention"):
 * recompute early when now - delta * beta * ln(rand) >= expiry. The longer
 * the load, the earlier one caller volunteers.
 */
export function shouldRefreshEarly(entry: Entry, now: number, beta: number): boolean {
  if (beta <= 0 || entry.loadMs <= 0 || entry.negative) return false
  const scale = entry.loadMs * beta
  // Far from expiry the draw can't win, so skip it (hot path).
  if (entry.freshUntil - now > scale * MAX_NEG_LOG_RANDOM) return false
  return now - scale * Math.log(Math.random()) >= entry.freshUntil
}

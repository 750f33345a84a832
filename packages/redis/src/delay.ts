/**
 * The longest delay a Node timer keeps: a setTimeout of 2^31 ms or more
 * fires after 1 ms, with a TimeoutOverflowWarning. Longer timeouts and
 * intervals end at this bound (about 24.8 days) instead, as @herd/memory's
 * waits do: a wait cut there ends as a timeout, and its caller checks again.
 */
const MAX_DELAY = 2 ** 31 - 1

export function capped(ms: number): number {
  return Math.min(ms, MAX_DELAY)
}

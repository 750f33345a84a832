/**
 * Timers that are safe for any duration herd accepts. Node fires a
 * setTimeout of 2^31 ms or more after 1 ms (with a warning), so a '30d'
 * hard timeout would reject every fetch at once: longer delays are chained
 * in steps below that bound. Timers are unref'd (herd's own bookkeeping
 * never keeps a process alive) unless a caller's promise waits on nothing
 * else, and read the global timer functions at call time, so fake timers in
 * tests drive them.
 */
const MAX_DELAY = 2 ** 31 - 1

export interface Timer {
  cancel(): void
}

/**
 * Calls `fn` once after `ms`. `keepAlive` when a caller's promise settles on
 * this timer alone (a batch window): an unref'd one would let the process
 * exit with the promise still pending.
 */
export function after(ms: number, fn: () => void, keepAlive = false): Timer {
  let handle: ReturnType<typeof setTimeout>
  let left = ms
  const arm = (): void => {
    const step = Math.min(left, MAX_DELAY)
    left -= step
    handle = setTimeout(left > 0 ? arm : fn, step)
    if (!keepAlive) handle.unref?.()
  }
  arm()
  return { cancel: () => clearTimeout(handle) }
}

/** Calls `fn` every `ms` until cancelled. */
export function every(ms: number, fn: () => void): Timer {
  if (ms <= MAX_DELAY) {
    const handle = setInterval(fn, ms)
    handle.unref?.()
    return { cancel: () => clearInterval(handle) }
  }
  let current: Timer
  const tick = (): void => {
    current = after(ms, tick)
    fn()
  }
  current = after(ms, tick)
  return { cancel: () => current.cancel() }
}

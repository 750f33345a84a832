/**
 * One counter for the whole process: strictly increasing across every key
 * and every memoryLock(), and constant memory however many keys are locked.
 *
 * It starts from the clock (µs since the epoch) rather than from 0 so fences
 * keep rising across restarts: a process that comes back to a Store that
 * outlived it (a memoryLock beside a Redis store) still outranks the entries
 * it wrote before. Number.MAX_SAFE_INTEGER in µs is the year 2255.
 */
let last = 0

export function nextFence(): number {
  last = Math.max(last + 1, Date.now() * 1000)
  return last
}

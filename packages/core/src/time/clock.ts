/**
 * The herd's one clock. Entries carry absolute times (fresh until, stale
 * until…) that every process compares with its own clock, so a process whose
 * clock runs ahead would keep entries fresh for too long. When the Store can
 * tell its own time (`Store.time`), the herd reads it now and then and
 * measures everything against it: skew between processes then costs at most
 * about half a round trip, whatever their wall clocks say.
 *
 * `coarse()` is Date.now() at 1 ms resolution for the local hit: reading the
 * clock costs ~60 ns on some VMs, a fifth of a local hit. The cached reading
 * is dropped by a 1 ms unref'd timer, so it is never more than about a
 * millisecond old and nothing keeps the process alive. Only for that path:
 * where a read waits on a Store round trip anyway, that timer, set afresh
 * every millisecond, costs more than the clock reads it saves.
 */
let cached = 0

function forget(): void {
  cached = 0
}

function coarseNow(): number {
  if (cached === 0) {
    cached = Date.now()
    setTimeout(forget, 1).unref?.()
  }
  return cached
}

export class HerdClock {
  /** Store time minus local time, in ms (0 until measured, or without a Store clock). */
  offset = 0

  now(): number {
    return Date.now() + this.offset
  }

  coarse(): number {
    return coarseNow() + this.offset
  }
}

import type { BusMessage } from '../contracts/bus.js'
import type { RecoveryAction, RecoveryOperation } from '../events.js'
import type { RecordKind } from '../keyspace.js'
import { type Entry, tombstone } from '../policies/freshness.js'
import { MISS, type TierRead } from '../ports/shared-tier.js'
import { after, type Timer } from '../time/timers.js'
import type { HerdContext } from './context.js'

/**
 * A write or invalidation that did not reach the shared tier (or a Bus
 * message that did not go out), kept to replay. `fence` is the one it was
 * made with: herd's fences follow the clock (a Lock seeds them from its
 * backend's clock, this process from the herd's), so replaying with it can't
 * overwrite anything written after it anywhere in the fleet.
 */
type Pending =
  | { readonly kind: 'set'; readonly key: string; readonly entry: Entry; readonly encoded: string; readonly at: number }
  | { readonly kind: 'delete' | 'expire'; readonly key: string; readonly fence: number; readonly at: number }
  | { readonly kind: 'raise'; readonly record: RecordKind; readonly tag: string; readonly at: number }
  | { readonly kind: 'publish'; readonly message: BusMessage; readonly at: number }

type Outcome = 'replayed' | 'superseded' | 'failed'

export interface RecoveryLimits {
  /** Most operations kept; past it the oldest is dropped (and reported). Default 10,000. */
  maxOperations: number
  /** Most bytes of keys and encoded values kept; past it the oldest are dropped. Default 16 MiB. */
  maxBytes: number
}

/** While anything waits, how often a replay is tried (the breaker's probe and close also start one). */
const RETRY_MS = 1_000
const OVERHEAD_BYTES = 96

/**
 * Writes and invalidations survive an outage. What could not reach the
 * shared tier takes effect in this process at once and stays in effect
 * (reads of the key see it over whatever the Store still holds) until it is
 * replayed, in order, once the Store answers again: the last operation per
 * key, bounded in count and bytes, the oldest dropped first. A replay that
 * finds a newer write is dropped as superseded.
 */
export class Recovery {
  private readonly pending = new Map<string, Pending>()
  private bytes = 0
  private retry: Timer | undefined
  private replaying = false
  private closed = false

  constructor(
    private readonly h: HerdContext,
    private readonly limits: RecoveryLimits | undefined,
  ) {}

  get size(): number {
    return this.pending.size
  }

  /** Keeps `op` to replay (replacing the key's earlier one); false when recovery is off. */
  keep(op: Pending): boolean {
    const limits = this.limits
    if (limits === undefined || this.closed) return false
    const id = idOf(op)
    this.forget(id)
    this.pending.set(id, op)
    this.bytes += sizeOf(op)
    this.count('queued', op)
    while (this.pending.size > limits.maxOperations || (this.bytes > limits.maxBytes && this.pending.size > 1)) {
      const [oldestId, oldest] = this.pending.entries().next().value as [string, Pending]
      this.forget(oldestId)
      this.count('dropped', oldest)
    }
    this.arm()
    return true
  }

  /**
   * What a Store read of `key` shows once this process's pending operation on
   * it is taken into account: its own set over an older entry, nothing after
   * its delete, staleness after its expire. An entry begun after the
   * operation (someone wrote later) stands.
   */
  overlay(key: string, read: TierRead): TierRead {
    if (this.pending.size === 0) return read
    const op = this.pending.get(`k${key}`)
    if (op === undefined || op.kind === 'raise' || op.kind === 'publish') return read
    const entry = read.kind === 'entry' ? read.entry : undefined
    if (entry !== undefined && entry.createdAt - entry.loadMs > op.at) return read
    if (op.kind === 'set') return { kind: 'entry', entry: op.entry }
    if (op.kind === 'delete' || entry === undefined) return MISS
    return { kind: 'entry', entry: { ...entry, freshUntil: Math.min(entry.freshUntil, op.at) } }
  }

  /** Replays now (the Store looked back: the breaker closed). */
  kick(): void {
    if (this.pending.size > 0) void this.replay()
  }

  /** Drops what is still pending, reporting each, and stops retrying. */
  close(): void {
    this.closed = true
    this.retry?.cancel()
    for (const [id, op] of [...this.pending]) {
      this.forget(id)
      this.count('dropped', op)
    }
  }

  private async replay(): Promise<void> {
    if (this.replaying || this.closed) return
    this.replaying = true
    try {
      for (const [id, op] of this.pending) {
        const outcome = await this.apply(op)
        if (outcome === 'failed' || this.closed) break
        // Unless the key was written again meanwhile: that newer one waits its turn.
        if (this.pending.get(id) === op) this.forget(id)
        this.count(outcome, op)
      }
    } finally {
      this.replaying = false
      this.arm()
    }
  }

  private async apply(op: Pending): Promise<Outcome> {
    const h = this.h
    const now = h.clock.now()
    switch (op.kind) {
      case 'set': {
        const written = await h.tier.write({
          key: op.key,
          entry: op.entry,
          encoded: op.encoded,
          fence: { kind: 'fleet', value: op.entry.fence },
          keepUntil: op.entry.errorUntil,
          now,
          kind: 'set',
        })
        if (written === 'written') h.bus.publish('set', op.key)
        return outcomeOf(written)
      }
      case 'delete': {
        const written = await h.tier.write({
          key: op.key,
          entry: tombstone(op.fence, op.at),
          encoded: '',
          fence: { kind: 'fleet', value: op.fence },
          keepUntil: now + h.tombstoneMs,
          now,
          kind: 'delete',
        })
        if (written === 'written') h.bus.publish('delete', op.key)
        return outcomeOf(written)
      }
      case 'expire': {
        const stored = await h.tier.peek(op.key)
        if (stored === 'unreachable') return 'failed'
        if (stored !== undefined && stored.createdAt - stored.loadMs > op.at) return 'superseded'
        const marked = await h.tier.markStale(op.key, op.at, { kind: 'fleet', value: op.fence })
        if (marked === 'local-only') return 'failed'
        h.bus.publish('expire', op.key)
        return 'replayed'
      }
      case 'raise': {
        const written = await h.tier.raiseRecord(op.record, op.tag, op.at, h.longestLifetimeMs)
        if (written === 'written') h.bus.invalidate(op.record, op.tag, op.at)
        return outcomeOf(written)
      }
      case 'publish':
        return (await h.bus.resend(op.message)) ? 'replayed' : 'failed'
    }
  }

  private arm(): void {
    this.retry?.cancel()
    this.retry = this.pending.size > 0 && !this.closed ? after(RETRY_MS, () => void this.replay()) : undefined
  }

  private forget(id: string): void {
    const op = this.pending.get(id)
    if (op === undefined) return
    this.pending.delete(id)
    this.bytes -= sizeOf(op)
  }

  private count(action: RecoveryAction, op: Pending): void {
    this.h.observer.recovery(action, operationOf(op), subjectOf(op), this.pending.size)
  }
}

export type { Pending as PendingOperation }

function outcomeOf(written: 'written' | 'fenced-out' | 'local-only'): Outcome {
  return written === 'written' ? 'replayed' : written === 'fenced-out' ? 'superseded' : 'failed'
}

/** One slot per key, per tag record, per Bus message subject: the last operation on each is what counts. */
function idOf(op: Pending): string {
  switch (op.kind) {
    case 'raise':
      return `r${op.record}\0${op.tag}`
    case 'publish':
      return `p${op.message.kind}\0${op.message.key}`
    default:
      return `k${op.key}`
  }
}

function subjectOf(op: Pending): string {
  return op.kind === 'raise' ? op.tag : op.kind === 'publish' ? op.message.key : op.key
}

function operationOf(op: Pending): RecoveryOperation {
  if (op.kind === 'raise') return op.tag === '' ? 'clear' : op.record === 'expired' ? 'expireTags' : 'deleteTags'
  return op.kind
}

/** Roughly what holding `op` costs: its strings at two bytes a character, plus a fixed overhead. */
function sizeOf(op: Pending): number {
  const text =
    op.kind === 'set'
      ? op.key.length + op.encoded.length
      : op.kind === 'raise'
        ? op.tag.length
        : op.kind === 'publish'
          ? op.message.key.length
          : op.key.length
  return OVERHEAD_BYTES + 2 * text
}

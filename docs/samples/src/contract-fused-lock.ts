import type { Bus, BusMessage, FusedAcquire, FusedAcquireHint, FusedFilled, FusedRead, FusedWait, FusedWrite, Lease, Store, StoredEntry } from '@herd/core'

export interface FusedLock {
  readonly store: Store
  readonly bus?: Bus
  acquire(key: string, ttlMs: number, hint?: FusedAcquireHint): Promise<FusedAcquire>
  fill(lease: Lease, write: FusedWrite | undefined, notify?: BusMessage): Promise<FusedFilled>
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<FusedWait>
  write?(key: string, entry: StoredEntry, ttlMs: number, notify?: BusMessage): Promise<{ fence: number; written: boolean }>
  readOrAcquire?(key: string, ttlMs: number): Promise<FusedRead>
}

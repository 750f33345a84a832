import type { Bus, BusMessage, FusedAcquire, FusedWait, FusedWrite, Lease, Store, StoredEntry } from '@herd/core'

export interface FusedLock {
  readonly store: Store
  readonly bus?: Bus
  acquire(key: string, ttlMs: number): Promise<FusedAcquire>
  fill(lease: Lease, write: FusedWrite | undefined, notify?: BusMessage): Promise<{ written: boolean; released: boolean }>
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<FusedWait>
  write?(key: string, entry: StoredEntry, ttlMs: number, notify?: BusMessage): Promise<{ fence: number; written: boolean }>
}

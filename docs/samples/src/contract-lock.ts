import type { FusedLock } from '@herd/core'

export interface Lease {
  key: string
  token: string
  fence: number
}

export interface Lock {
  acquire(key: string, ttlMs: number): Promise<Lease | undefined>
  release(lease: Lease): Promise<boolean>
  extend(lease: Lease, ttlMs: number): Promise<boolean>
  fence(key: string): Promise<number>
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>
  ready?(): Promise<boolean>                                              // optional
  inspect?(key: string): Promise<{ held: boolean; expiresInMs?: number }> // optional
  readonly fused?: FusedLock                                              // optional capability, below
  close?(): Promise<void>                                                 // optional
}

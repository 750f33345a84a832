import type { StoredEntry } from '@herd/core'

export interface Store {
  get(key: string): Promise<StoredEntry | undefined>
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<boolean>
  delete(key: string): Promise<void>
  expire(key: string, at: number, fence?: number): Promise<boolean>
  time?(): Promise<number>                                                     // optional
  getMany?(keys: readonly string[]): Promise<Array<StoredEntry | undefined>>  // optional
  close?(): Promise<void>                                                      // optional
}

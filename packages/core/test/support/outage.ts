import type { Bus, BusListener, BusMessage, Store, StoredEntry } from '../../src/index.js'
import type { MapStore } from './map-store.js'

/** One process's connection to a shared Store: cut it and that process alone sees the Store down. */
export function connection(store: MapStore): Store & { cut: boolean } {
  const view = {
    cut: false,
    check(): void {
      if (view.cut) throw new Error('connection refused')
    },
    async get(key: string) {
      view.check()
      return store.get(key)
    },
    async set(key: string, entry: StoredEntry, ttl: number) {
      view.check()
      return store.set(key, entry, ttl)
    },
    async delete(key: string) {
      view.check()
      return store.delete(key)
    },
    async expire(key: string, at: number, fence?: number) {
      view.check()
      return store.expire(key, at, fence)
    },
    async getMany(keys: readonly string[]) {
      view.check()
      return Promise.all(keys.map((key) => store.get(key)))
    },
  }
  return view
}

/** A Bus shared in-process, and per-process connections to it that can be cut (publishing then fails; nothing is received). */
export function busNetwork() {
  const subscribers = new Set<{ listener: BusListener; line: { cut: boolean } }>()
  const published: BusMessage[] = []
  return {
    published,
    connect(): Bus & { cut: boolean } {
      const line = {
        cut: false,
        async publish(message: BusMessage) {
          if (line.cut) throw new Error('bus unreachable')
          published.push(message)
          for (const s of [...subscribers]) if (!s.line.cut) queueMicrotask(() => s.listener({ ...message }))
        },
        async subscribe(listener: BusListener) {
          if (line.cut) throw new Error('bus unreachable')
          const subscription = { listener, line }
          subscribers.add(subscription)
          return async () => void subscribers.delete(subscription)
        },
      }
      return line
    },
  }
}

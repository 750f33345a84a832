import { HerdArgumentError, HerdDecodeError, type Store, type StoredEntry } from '@herd/core'
import { decodeEntry, encodeEntry } from './entry-format.js'
import { type RedisOptions, resolve } from './options.js'
import type { RedisClient } from './port/index.js'
import { MARK_STALE, SET_IF_NEWER } from './scripts.js'
import { isMarker } from './marker.js'
import { remember } from './origin.js'

/** Another type of value at an entry's key (foreign data) reads as an entry herd can't decode: a miss, which the next write replaces. */
function unreadable(error: unknown, key: string): never {
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) {
    throw new HerdDecodeError(`@herd/redis: the Redis value for "${key}" is not a string (foreign data at herd's key)`, { cause: error })
  }
  throw error
}

export function storeTtl(ttlMs: number): string {
  if (!(ttlMs >= 0 && ttlMs < Infinity)) throw new HerdArgumentError(`@herd/redis: set() ttlMs must be a finite number >= 0; got ${String(ttlMs)}`)
  return String(Math.ceil(ttlMs))
}

/**
 * The shared tier on Redis. A hit is one GET, decoded in the callback that
 * settles it; a write is one fenced script call; the Redis TTL is the ttlMs
 * the herd passes (it covers the whole stale window), so Redis evicts what
 * can no longer be served.
 */
export function redisStore(client: RedisClient, options: RedisOptions = {}): Store {
  const resolved = resolve(client, options, 'redisStore')
  const { commands, keys } = resolved

  // A lease marker (marker.ts) is a key being loaded: no entry yet.
  const read = (key: string, raw: unknown): StoredEntry | undefined => {
    if (raw === null || raw === undefined) return undefined
    const text = typeof raw === 'string' ? raw : String(raw)
    return isMarker(text) ? undefined : decodeEntry(text, key)
  }

  // `time` (and expire's fence) are optional in the Store contract: herds that know them use them.
  const store: Store & { time(): Promise<number> } = {
    get(key) {
      const name = keys.value(key)
      return commands.sendMap(
        name,
        true,
        ['GET', name],
        (raw) => read(key, raw),
        (error) => unreadable(error, key),
      )
    },

    async getMany(list) {
      const names = list.map((key) => keys.value(key))
      // MGET across slots is refused by a Cluster; separate GETs are pipelined per node by the client.
      const raw = commands.cluster
        ? await Promise.all(names.map((name, i) => commands.send(name, true, ['GET', name]).catch((error: unknown) => unreadable(error, list[i]!))))
        : names.length === 0
          ? []
          : ((await commands.send(names[0], true, ['MGET', ...names])) as unknown[])
      return list.map((key, i) => read(key, raw[i]))
    },

    async set(key, entry, ttlMs) {
      const payload = encodeEntry(entry)
      const reply = await commands.run(SET_IF_NEWER, [keys.value(key)], [String(entry.fence), payload, storeTtl(ttlMs)])
      return Number(reply) === 1
    },

    async delete(key) {
      const name = keys.value(key)
      await commands.send(name, false, ['DEL', name])
    },

    async expire(key, at, fence?: number) {
      if (!Number.isFinite(at)) throw new HerdArgumentError(`@herd/redis: expire() needs an epoch ms; got ${String(at)}`)
      if (fence !== undefined && !(Number.isSafeInteger(fence) && fence >= 0)) {
        throw new HerdArgumentError(`@herd/redis: expire() fence must be a whole number >= 0; got ${String(fence)}`)
      }
      return Number(await commands.run(MARK_STALE, [keys.value(key)], [String(Math.floor(at)), fence === undefined ? '' : String(fence)])) === 1
    },

    /** Redis' own clock (epoch ms), so every process measures entry times on one clock. */
    time() {
      return commands.sendMap(undefined, true, ['TIME'], (reply) => {
        const [seconds, micros] = reply as [string, string]
        return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000)
      })
    },
  }
  remember(store, client, resolved)
  return store
}

import { createHerd, type Herd, type HerdOptions } from '@herd/core'
import { memoryLock, memoryStore } from '@herd/memory'
import { redisBackend } from '@herd/redis'
import { createClient } from 'redis'

/**
 * Cache-aside with no protection, the way most services cache: read, and on
 * a miss run the query and write the result. Every request that misses runs
 * its own query. It lives on the same backend as herd (process memory, or
 * Redis) so the comparison is like for like.
 */
export interface NaiveCache {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
}

export interface Backend {
  /** 'memory' or 'redis', shown on the dashboard. */
  kind: 'memory' | 'redis'
  herd: Herd
  naive: NaiveCache
  close(): Promise<void>
}

/** A start that can't succeed (an unreachable REDIS_URL): the CLI prints its message alone and exits 1. */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** Connection attempts before an unreachable Redis stops the start (about a second). */
const CONNECT_ATTEMPTS = 4

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** Herd-wide defaults of the demo; routes override ttl per call. */
const HERD_DEFAULTS: HerdOptions = {
  ttl: '30s',
  staleWhileRevalidate: '5m',
  staleIfError: '1h',
  negativeTtl: '10s',
}

/** In-process store and lock by default; with a Redis URL, herd's store, lock and bus on Redis. */
export async function openBackend(redisUrl: string | undefined): Promise<Backend> {
  if (!redisUrl) {
    const herd = createHerd({ ...HERD_DEFAULTS, store: memoryStore(), lock: memoryLock() })
    const naive = new Map<string, { value: unknown; until: number }>()
    return {
      kind: 'memory',
      herd,
      naive: {
        async get(key) {
          const held = naive.get(key)
          return held && held.until > Date.now() ? held.value : undefined
        },
        async set(key, value, ttlMs) {
          naive.set(key, { value, until: Date.now() + ttlMs })
        },
        async delete(key) {
          naive.delete(key)
        },
      },
      close: () => herd.close(), // closes the store and lock too
    }
  }

  const client = await connectRedis(redisUrl)
  const herd = createHerd({ ...HERD_DEFAULTS, ...redisBackend(client, { prefix: 'herd-demo:' }) })
  const NAIVE = 'herd-demo:naive:'
  return {
    kind: 'redis',
    herd,
    naive: {
      async get(key) {
        const raw = await client.get(NAIVE + key)
        return raw === null ? undefined : JSON.parse(raw)
      },
      async set(key, value, ttlMs) {
        await client.set(NAIVE + key, JSON.stringify(value), { PX: ttlMs })
      },
      async delete(key) {
        await client.del(NAIVE + key)
      },
    },
    async close() {
      await herd.close()
      client.destroy()
    },
  }
}

/**
 * A connected node-redis client. Once connected it reconnects for as long as it takes (herd serves on
 * in-process protection meanwhile); before that, a Redis that refuses a few attempts in a row is a setup
 * mistake: StartupError, with what to do.
 */
export async function connectRedis(redisUrl: string): Promise<ReturnType<typeof createClient>> {
  let connected = false
  const client = createClient({
    url: redisUrl,
    socket: {
      reconnectStrategy: (retries: number, cause: Error) => {
        if (connected) return Math.min(50 * 2 ** retries, 2_000)
        return retries < CONNECT_ATTEMPTS ? 250 : cause
      },
    },
  })
  // Without a listener a dropped connection would crash the process; herd degrades on its own meanwhile.
  let lastError = ''
  client.on('error', (error: Error) => {
    if (connected && error.message !== lastError) console.error(`redis: ${error.message}`)
    lastError = error.message
  })
  try {
    await client.connect()
  } catch (error) {
    const cause = (error as { socketError?: Error }).socketError ?? (error as Error)
    throw new StartupError(
      `herd demo: can't reach Redis at ${redacted(redisUrl)} (${cause.message}). Start redis-server there, or unset REDIS_URL to keep herd in process memory.`,
    )
  }
  connected = true
  return client
}

/**
 * Soak: two herds on one real redis-server (a fleet of two), 10,000 keys, mixed traffic for a while: hits, misses,
 * expires, deletes, sets, tag expiries, batch reads, loaders that fail, callers that give up. Then close() and let the
 * process end on its own.
 *
 *     node --conditions=@herd/source --import tsx test/soak.ts [--seconds 180] [--url redis://127.0.0.1:6379]
 *
 * Prints one JSON line (`soak: {...}`) with the counts and the heap samples, and sets a non-zero exit code when a
 * promise broke: a rejection that is neither the caller's own abort nor the loader's own error, or (runs of a minute
 * or more) a heap that grows more than 8 MB after the warm-up. Without --url it starts (and stops) its own redis-server on a free loopback port.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createHerd, type Herd } from '@herd/core'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { redisBackend } from '../src/index.js'

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? undefined : process.argv[at + 1]
}
const seconds = Number(arg('seconds') ?? 180)
const KEYS = 10_000
const LANES = 64
const HEAP_EVERY_MS = Math.max(1_000, (seconds * 1_000) / 30)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The loader's own failure: a rejection carrying it is the loader's, not herd's. */
class LoaderFailure extends Error {}

const counts = { ops: 0, fetches: 0, loads: 0, loaderErrors: 0, ownAborts: 0, unexpected: 0 }
const unexpected: string[] = []
const byOp: Record<string, number> = {}

/** Biased towards a hot set: half the traffic on 1% of the keys. */
const pick = (): string => `k${Math.random() < 0.5 ? Math.floor(Math.random() * (KEYS / 100)) : Math.floor(Math.random() * KEYS)}`
const tagOf = (key: string): string => `t${Number(key.slice(1)) % 50}`

const loader = async ({ key }: { key: string }): Promise<unknown> => {
  counts.loads++
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
  if (Math.random() < 0.05) throw new LoaderFailure(`loader failed for ${key}`)
  return { key, at: Date.now(), list: [1, undefined, 3] }
}

/** Sorts a rejection: the caller's own abort, the loader's own error, or a broken promise. */
function settle(error: unknown, reason?: unknown): void {
  if (reason !== undefined && error === reason) counts.ownAborts++
  else if (error instanceof LoaderFailure || (error instanceof Error && error.cause instanceof LoaderFailure)) counts.loaderErrors++
  else {
    counts.unexpected++
    if (unexpected.length < 10) unexpected.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
  }
}

async function one(herd: Herd): Promise<void> {
  const key = pick()
  const roll = Math.random()
  const op =
    roll < 0.66
      ? 'fetch'
      : roll < 0.74
        ? 'abort'
        : roll < 0.79
          ? 'expire'
          : roll < 0.84
            ? 'delete'
            : roll < 0.88
              ? 'set'
              : roll < 0.91
                ? 'many'
                : roll < 0.999
                  ? 'get'
                  : 'tags'
  byOp[op] = (byOp[op] ?? 0) + 1
  counts.ops++
  switch (op) {
    case 'fetch':
      counts.fetches++
      await herd.fetch(key, loader, { tags: [tagOf(key)] }).catch((e) => settle(e))
      return
    case 'abort': {
      // A caller that gives up: before the call, during it, or never.
      counts.fetches++
      const reason = new Error('the caller left')
      const controller = new AbortController()
      const wait = Math.random() * 4
      if (wait < 0.5) controller.abort(reason)
      else setTimeout(() => controller.abort(reason), wait)
      await herd.fetch(key, loader, { signal: controller.signal }).catch((e) => settle(e, reason))
      return
    }
    case 'expire':
      await herd.expire(key).catch((e) => settle(e))
      return
    case 'delete':
      await herd.delete(key).catch((e) => settle(e))
      return
    case 'set':
      await herd.set(key, { key, set: true }, { tags: [tagOf(key)] }).catch((e) => settle(e))
      return
    case 'many': {
      const keys = Array.from({ length: 20 }, pick)
      await herd
        .fetchMany(keys, async (missing) => {
          counts.loads += missing.length
          return new Map(missing.map((k) => [k, { key: k, many: true }]))
        })
        .catch((e) => settle(e))
      return
    }
    case 'get':
      await herd.get(key).catch((e) => settle(e))
      return
    default:
      await herd.expireTags([tagOf(key)]).catch((e) => settle(e))
  }
}

async function main(): Promise<void> {
  const url = arg('url')
  const server: RedisServer | undefined = url ? undefined : await startRedis()
  const clients = [0, 1].map(() => createClient({ url: url ?? server!.url }))
  for (const c of clients) c.on('error', () => {})
  await Promise.all(clients.map((c) => c.connect()))
  const prefix = `soak-${process.pid}:`
  const herds = clients.map((c) =>
    createHerd({
      ...redisBackend(c, { prefix }),
      ttl: '2s',
      staleWhileRevalidate: '3s',
      staleIfError: '10s',
      local: { maxSize: 5_000, ttl: '1s' },
    }),
  )

  const started = Date.now()
  const heap: number[] = []
  const sample = (): void => {
    gc()
    heap.push(Math.round(process.memoryUsage().heapUsed / 1024 / 1024))
  }
  sample()
  const sampler = setInterval(sample, HEAP_EVERY_MS)
  const end = started + seconds * 1_000
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const herd = herds[lane % herds.length]!
      while (Date.now() < end) await one(herd)
    }),
  )
  clearInterval(sampler)
  sample()

  await Promise.all(herds.map((h) => h.close()))
  await Promise.all(clients.map((c) => c.close()))
  await server?.stop()

  // Flat: after the first third (warm-up: caches fill to their bounds), the heap ends within 8 MB of where it was.
  const warm = heap.slice(Math.floor(heap.length / 3))
  const growth = warm.at(-1)! - Math.min(...warm)
  const stats = herds.map((h) => h.stats())
  const summary = {
    seconds,
    keys: KEYS,
    lanes: LANES,
    ...counts,
    opsPerSecond: Math.round(counts.ops / seconds),
    byOp,
    hits: stats.reduce((a, s) => a + s.hits.local + s.hits.store, 0),
    misses: stats.reduce((a, s) => a + s.misses, 0),
    heapMb: heap,
    heapGrowthAfterWarmUpMb: growth,
    unexpectedErrors: unexpected,
  }
  console.log(`soak: ${JSON.stringify(summary)}`)
  // A heap verdict needs a run long enough to have a warm-up behind it (a short run in the test suite only checks the rest).
  if (counts.unexpected > 0 || (seconds >= 60 && growth > 8)) process.exitCode = 1
  // Nothing else: the process must end by itself now (no open handle left by close()).
}

await main()

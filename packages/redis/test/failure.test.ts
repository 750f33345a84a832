import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCommandTimeoutError, redisLock, redisStore } from '../src/index.js'
import { haveRedis } from './clients.js'

const entry = (fence: number) => {
  const now = Date.now()
  return { value: 'v', fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 60_000, errorUntil: now + 60_000, loadMs: 1 }
}

async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const outcome = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([outcome, hung])
  } finally {
    clearTimeout(timer)
  }
}

// A server of its own: these tests kill, pause and demote it.
describe.skipIf(!haveRedis)('Redis failures are bounded errors', () => {
  let server: RedisServer
  let client: ReturnType<typeof createClient>
  beforeAll(async () => {
    server = await startRedis()
    client = createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } })
    client.on('error', () => {})
    await client.connect()
  })
  afterAll(async () => {
    server?.resume()
    await client?.destroy()
    await server?.stop()
  })

  it('a hung Redis (SIGSTOP) rejects each command after commandTimeout, and wait() resolves false', async () => {
    const store = redisStore(client, { commandTimeout: 200 })
    const lock = redisLock(client, { commandTimeout: 200 })
    await store.set('h', entry(1), 60_000)
    server.pause()
    try {
      const started = Date.now()
      const results = await Promise.all([
        settleWithin(store.get('h'), 2_000),
        settleWithin(store.set('h', entry(2), 60_000), 2_000),
        settleWithin(lock.acquire('h', 1_000), 2_000),
      ])
      for (const r of results) {
        expect(r.ok).toBe(false)
        expect((r as { error: unknown }).error).toBeInstanceOf(RedisCommandTimeoutError)
      }
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(await settleWithin(lock.wait('h', 300), 2_000)).toEqual({ ok: true, value: false })
    } finally {
      server.resume()
    }
    // The late replies were dropped; the client answers again.
    expect((await store.get('h'))?.fence).toBeGreaterThanOrEqual(1)
    await lock.close?.()
  })

  it('READONLY (a demoted primary) is thrown to the caller', async () => {
    const store = redisStore(client)
    await client.sendCommand(['REPLICAOF', '127.0.0.1', '1']) // a primary that isn't there: writes refused
    try {
      await expect(store.set('r', entry(1), 60_000)).rejects.toThrow(/READONLY/)
      await expect(store.delete('r')).rejects.toThrow(/READONLY/)
    } finally {
      await client.sendCommand(['REPLICAOF', 'NO', 'ONE'])
    }
    expect(await store.set('r', entry(1), 60_000)).toBe(true)
  })

  it('a killed Redis fails fast (no queueing behind the outage); after a restart the same adapters work', async () => {
    const store = redisStore(client, { commandTimeout: 500 })
    const lock = redisLock(client, { commandTimeout: 500 })
    await server.kill()
    const started = Date.now()
    const results = await Promise.all([settleWithin(store.get('k'), 2_000), settleWithin(lock.acquire('k', 1_000), 2_000)])
    expect(results.every((r) => !r.ok)).toBe(true)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(await settleWithin(lock.wait('k', 300), 2_000)).toEqual({ ok: true, value: false })
    await server.restart()
    const deadline = Date.now() + 5_000
    while (!client.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(await store.set('k', entry(1), 60_000)).toBe(true) // scripts reloaded after NOSCRIPT
    expect((await store.get('k'))?.fence).toBe(1)
    const lease = await lock.acquire('k', 1_000)
    expect(lease?.fence).toBeGreaterThan(1)
    await lock.close?.()
  })
})

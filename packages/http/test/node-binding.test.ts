import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHerd, type Herd, type Store, type StoredEntry } from '@herd/core'
import { herdCacheListener, type HttpCacheOptions } from '../src/index.js'

/*
 * The engine on the plain node:http binding, for what the shared behaviour
 * suite (test/behaviour.test.ts) does not reach: X-Cache against herd's
 * Store tier and jitter, and hit-for-pass markers past passTtl.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void

const servers: Server[] = []
const herds: Herd[] = []
afterEach(async () => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
  await Promise.all(herds.splice(0).map((h) => h.close()))
})

async function serve(handler: Handler, options: Partial<HttpCacheOptions<IncomingMessage>> = {}): Promise<string> {
  const herd = options.herd ?? createHerd()
  herds.push(herd)
  const server = createServer(herdCacheListener(handler, { ttl: '1m', ...options, herd }))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/**
 * Time as herd and the engine read it (Date) stops, and moves only when a test says so: a loaded machine can take
 * any time between two requests without an entry going stale under it. Timers stay real (the servers need them).
 */
function stopTheClock(): void {
  vi.useFakeTimers({ toFake: ['Date'] })
}

/** Moves Date on by `ms`, then lets herd's coarse clock (a reading kept for up to 1 ms by a real timer) read it again. */
async function advance(ms: number): Promise<void> {
  vi.setSystemTime(Date.now() + ms)
  await sleep(5)
}

/** A Map-backed Store: with `local: false`, every answer comes from herd's Store tier. */
class MapStore implements Store {
  private readonly entries = new Map<string, { entry: StoredEntry; until: number }>()
  async get(key: string): Promise<StoredEntry | undefined> {
    const slot = this.entries.get(key)
    return slot === undefined || Date.now() >= slot.until ? undefined : { ...slot.entry }
  }
  async set(key: string, entry: StoredEntry, ttlMs: number): Promise<boolean> {
    const held = this.entries.get(key)
    if (held !== undefined && Date.now() < held.until && held.entry.fence > entry.fence) return false
    this.entries.set(key, { entry: { ...entry }, until: Date.now() + ttlMs })
    return true
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key)
  }
  async expire(key: string, at: number): Promise<boolean> {
    const held = this.entries.get(key)
    if (held === undefined) return false
    held.entry = { ...held.entry, freshUntil: Math.min(held.entry.freshUntil, at) }
    return true
  }
}

/** A gate the test opens when it is ready; handlers wait on it (at most `ms`, a generous bound). */
function gate(ms = 5_000): { wait(): Promise<unknown>; open(): void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { wait: () => Promise.race([opened, sleep(ms)]), open }
}

async function getText(url: string): Promise<{ text: string; cache: string | null; status: number }> {
  const r = await fetch(url)
  return { text: await r.text(), cache: r.headers.get('x-cache'), status: r.status }
}

function count(values: Array<string | null>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1
  return out
}

describe('X-Cache and stale windows follow what herd did', () => {
  it('says STALE exactly when herd served a stale entry: inside the jitter window, from the Store, while a refresh is in flight', async () => {
    // jitter 0.5 with Math.random pinned near 1: herd's entry is fresh for about half the ttl, the response's own ttl is longer.
    vi.spyOn(Math, 'random').mockReturnValue(0.999)
    stopTheClock()
    const herd = createHerd({ store: new MapStore(), local: false, jitter: 0.5, beta: 0 })
    const refresh = gate()
    let runs = 0
    const url = await serve(
      async (_req, res) => {
        const n = ++runs
        if (n > 1) await refresh.wait()
        res.end(`v${n}`)
      },
      { ttl: 1_000, staleWhileRevalidate: '1m', herd },
    )
    expect(await getText(`${url}/j`)).toMatchObject({ text: 'v1', cache: 'MISS' })
    expect(await getText(`${url}/j`)).toMatchObject({ text: 'v1', cache: 'HIT' })
    await advance(650)
    // Past herd's (jittered) freshness, inside the response's own ttl: the first request starts the refresh…
    expect(await getText(`${url}/j`)).toMatchObject({ text: 'v1', cache: 'STALE' })
    // …and the next ones join that refresh's flight and get its stale answer (herd emits no new `stale` event for them).
    const joined = await Promise.all(Array.from({ length: 3 }, () => getText(`${url}/j`)))
    expect(joined.map((r) => [r.text, r.cache])).toEqual(Array(3).fill(['v1', 'STALE']))
    refresh.open()
    let fresh = await getText(`${url}/j`)
    // Bounded by a count (the test's timeout ends a refresh that never lands), not a time window.
    for (let i = 0; i < 1_000 && fresh.text !== 'v2'; i++) {
      await sleep(20)
      fresh = await getText(`${url}/j`)
    }
    expect(fresh).toMatchObject({ text: 'v2', cache: 'HIT' })
    expect(runs).toBe(2)
  })

  it('says HIT for a fresh entry and STALE for an expired one, from the Store tier', async () => {
    const herd = createHerd({ store: new MapStore(), local: false, jitter: 0, beta: 0 })
    const refresh = gate()
    let runs = 0
    const url = await serve(
      async (_req, res) => {
        const n = ++runs
        if (n > 1) await refresh.wait()
        res.end(`v${n}`)
      },
      { ttl: '1m', staleWhileRevalidate: '1m', herd },
    )
    await getText(`${url}/e`)
    expect(await getText(`${url}/e`)).toMatchObject({ text: 'v1', cache: 'HIT' })
    await herd.expire('http:http|/e')
    const answers = await Promise.all(Array.from({ length: 4 }, () => getText(`${url}/e`)))
    expect(answers.map((r) => [r.text, r.cache])).toEqual(Array(4).fill(['v1', 'STALE']))
    refresh.open()
  })

  it('does not serve a hit-for-pass marker past passTtl: the next requests share one run again', async () => {
    stopTheClock()
    let runs = 0
    let cookie = true
    const url = await serve(
      async (_req, res) => {
        const n = ++runs
        await sleep(50)
        if (cookie) res.setHeader('set-cookie', `sid=${n}`)
        res.end(`v${n}`)
      },
      { ttl: '1m', passTtl: 300, staleWhileRevalidate: '1m', staleIfError: '1m', herd: createHerd({ beta: 0 }) },
    )
    expect(await getText(`${url}/p`)).toMatchObject({ text: 'v1', cache: 'BYPASS' })
    const passed = await Promise.all(Array.from({ length: 3 }, () => getText(`${url}/p`)))
    expect(count(passed.map((r) => r.cache))).toEqual({ BYPASS: 3 })
    expect(runs).toBe(4)
    cookie = false
    await advance(400)
    const shared = await Promise.all(Array.from({ length: 5 }, () => getText(`${url}/p`)))
    expect(shared.map((r) => r.text)).toEqual(Array(5).fill('v5'))
    expect(count(shared.map((r) => r.cache))).toEqual({ MISS: 1, HIT: 4 })
    expect(runs).toBe(5)
  })
})

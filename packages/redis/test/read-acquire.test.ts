import { createHerd } from '@herd/core'
import { RedisMonitor } from '@herd/testing/redis-monitor'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import type { RedisClient } from '../src/index.js'
import { LIBRARIES, type Library, TARGETS, connect, haveRedis, uniquePrefix } from './clients.js'

/**
 * A read that takes the lease as it reads (`lock.fused.readOrAcquire`, the
 * `SET NX GET` a herd sends while its reads mostly miss, as a fresh herd's
 * do): the lease it takes is the caller's, and a Redis that refuses writes
 * still answers reads.
 */
describe.skipIf(!haveRedis)('a read that takes the lease', () => {
  for (const target of TARGETS) {
    it(`${target.label}: a caller that leaves while its read takes the lease gives the lease back, and the process waiting on it loads at once (the lease is an hour)`, async () => {
      const redis = await connect(target)
      const prefix = uniquePrefix()
      const backend = () => ({ ...redisBackend(redis.client, { prefix }), lease: '1h', local: false }) as const
      const leaving = createHerd(backend())
      const next = createHerd(backend())
      try {
        await Promise.all([leaving.ready(), next.ready()])
        // Each herd reads the key once (on a Cluster that subscribes its slot's wake channel, so the reads below
        // go out at once and in order), then the key is deleted outright: absent, as a cold key is.
        await leaving.fetch('k', async () => 0)
        await next.fetch('k', async () => 0)
        await redis.raw(`${prefix}{k}:v`, ['DEL', `${prefix}{k}:v`])
        const controller = new AbortController()
        let leavingLoads = 0
        const left = leaving.fetch(
          'k',
          async () => {
            leavingLoads++
            return 1
          },
          { signal: controller.signal },
        )
        controller.abort()
        // Sent after the leaving herd's read on the same client: it finds that read's marker, and waits for it.
        const loaded = next.fetch('k', async () => 2)
        await expect(left).rejects.toMatchObject({ name: 'AbortError' })
        // An hour's lease: only its release can end the wait before the test's timeout.
        await expect(loaded).resolves.toBe(2)
        expect(leavingLoads).toBe(0)
        expect(next.stats().lockWaits).toBe(1)
        expect(next.stats().loads).toBe(1)
      } finally {
        await Promise.all([leaving.close(), next.close()])
      }
    })
  }

  describe('where Redis refuses `SET NX GET` (before 7.0: ERR syntax error)', () => {
    for (const library of LIBRARIES) {
      it(`${library}: the scripted lease takes over for good after the first refusal; two processes × 50 callers on cold keys load each once, nothing rejects`, async () => {
        const prefix = uniquePrefix()
        const [a, b] = await Promise.all([connect({ library, topology: 'single' }), connect({ library, topology: 'single' })])
        const refusals = [asRedis6(a.client, library), asRedis6(b.client, library)]
        const herds = [a, b].map((redis) => createHerd({ ...redisBackend(redis.client, { prefix }), local: false }))
        let loads = 0
        const loader = (value: string) => async () => {
          loads++
          return value
        }
        try {
          await Promise.all(herds.map((herd) => herd.ready()))
          for (const key of ['first', 'second']) {
            const values = await Promise.all(herds.flatMap((herd) => Array.from({ length: 50 }, () => herd.fetch(key, loader(key)))))
            expect(values).toEqual(values.map(() => key))
          }
          expect(loads).toBe(2)
          // Each process sent it until its first refusal came back, and never after: the second key sent none.
          const refused = refusals.map((r) => r.refused())
          for (const count of refused) expect(count).toBeGreaterThan(0)
          expect(herds.map((herd) => herd.stats().errors)).toEqual([0, 0])
          await Promise.all(herds.map((herd) => herd.fetch('third', loader('third'))))
          expect(refusals.map((r) => r.refused())).toEqual(refused)
          expect(loads).toBe(3)
        } finally {
          await Promise.all(herds.map((herd) => herd.close()))
        }
      })
    }
  })

  describe('where Redis refuses writes (maxmemory reached, noeviction)', () => {
    // A server of this file's own: the others must not run out of memory.
    let server: RedisServer
    beforeAll(async () => {
      server = await startRedis()
    })
    afterAll(() => server?.stop())

    for (const library of LIBRARIES) {
      it(`${library}: a read still answers with one GET more: a stored entry is served, a cold key loads in this process; nothing rejects`, async () => {
        const redis = await connect({ library, topology: 'single' }, { url: server.url, clusterUrls: [], sentinel: { name: '', nodes: [] } })
        const prefix = uniquePrefix()
        const monitor = await RedisMonitor.open(server.url, { filter: (line) => line.includes(prefix) })
        const herd = createHerd({ ...redisBackend(redis.client, { prefix }), local: false })
        // MONITOR shows what ran; a command refused for memory never runs, and counts in INFO errorstats instead.
        const sent = async (subject: string) =>
          (await monitor.take((marker) => redis.raw(undefined, ['ECHO', marker])))
            .filter((c) => c.source === 'client' && c.line.includes(subject))
            .map((c) => c.name)
        const refused = async () => Number(/errorstat_OOM:count=(\d+)/.exec(String(await server.command('INFO', 'errorstats')))?.[1] ?? 0)
        try {
          await herd.ready()
          expect(await herd.fetch('stored', async () => 'v')).toBe('v')
          await sent('{stored}')
          await server.command('CONFIG', 'SET', 'maxmemory', '1')
          const before = await refused()
          expect(await herd.fetch('stored', async () => 'other')).toBe('v')
          // The SET NX GET refused, then a GET.
          expect(await sent('{stored}')).toEqual(['get'])
          expect(await refused()).toBe(before + 1)
          expect(await herd.fetch('cold', async () => 'loaded')).toBe('loaded')
          // The read as above; then the lease's SET NX GET, refused too: the load runs in this process.
          expect(await sent('{cold}')).toEqual(['get'])
          expect(await refused()).toBe(before + 3)
        } finally {
          await server.command('CONFIG', 'SET', 'maxmemory', '0')
          await herd.close()
          monitor.close()
        }
      })
    }
  })
})

/**
 * The real server answers `SET … NX … GET` as Redis 6 does (`ERR syntax
 * error`, which 7.0 lifted): the command goes out with one more option that
 * no version knows. Counts the commands so refused.
 */
function asRedis6(client: RedisClient, library: Library): { refused(): number } {
  let refused = 0
  /** The command as sent: a marker's `SET … NX … GET` gets the option no version knows, and is counted. */
  const asSent = (args: unknown[]): unknown[] => {
    if (!(String(args[0]).toUpperCase() === 'SET' && args.includes('NX') && args.includes('GET'))) return args
    refused++
    return [...args, 'BEFORE-7.0']
  }
  if (library === 'ioredis') {
    const io = client as unknown as { call(...args: unknown[]): Promise<unknown> }
    const call = io.call.bind(io)
    io.call = (...args) => call(...asSent(args))
  } else {
    const node = client as unknown as { sendCommand(args: unknown[], ...rest: unknown[]): Promise<unknown> }
    const send = node.sendCommand.bind(node)
    node.sendCommand = (args, ...rest) => send(asSent(args), ...rest)
  }
  return { refused: () => refused }
}

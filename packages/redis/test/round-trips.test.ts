import { connect as connectSocket, type Socket } from 'node:net'
import { createHerd } from '@herd/core'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import { type Connected, LIBRARIES, connect, haveRedis, uniquePrefix } from './clients.js'

/**
 * What a client sends Redis, from MONITOR: every command a client sent is a
 * round trip; the ones a Lua script runs arrive as `[0 lua]` and are not.
 * Only lines that name `prefix` are kept (other test files share the
 * server), and `take` counts those about one key (the herd also reads its
 * tag records now and then, which is not the operation measured).
 * A marker command sent afterwards is the barrier: MONITOR reports commands
 * in the order the server ran them, so once the marker is in, all is.
 */
class Monitor {
  private buffer = ''
  private sent: Array<{ command: string; line: string }> = []
  private waiting: { marker: string; done: () => void } | undefined

  private constructor(
    private readonly socket: Socket,
    private readonly prefix: string,
  ) {}

  static open(url: string, prefix: string): Promise<Monitor> {
    const { hostname, port } = new URL(url)
    return new Promise((resolve, reject) => {
      const socket = connectSocket({ host: hostname, port: Number(port) })
      const monitor = new Monitor(socket, prefix)
      socket.setEncoding('utf8')
      socket.once('error', reject)
      socket.on('data', (chunk: string) => {
        monitor.buffer += chunk
        let nl: number
        while ((nl = monitor.buffer.indexOf('\r\n')) >= 0) {
          const line = monitor.buffer.slice(0, nl)
          monitor.buffer = monitor.buffer.slice(nl + 2)
          if (line === '+OK') resolve(monitor)
          else monitor.record(line)
        }
      })
      socket.write('MONITOR\r\n')
    })
  }

  private record(line: string): void {
    if (!line.includes(this.prefix) || line.includes('[0 lua]')) return
    const waiting = this.waiting
    if (waiting !== undefined && line.includes(waiting.marker)) {
      this.waiting = undefined
      return waiting.done()
    }
    this.sent.push({ command: /^\+\S+ \[[^\]]+\] "([^"]+)"/.exec(line)?.[1]?.toLowerCase() ?? line, line })
  }

  /** The commands about `subject` sent since the last call, in order, once `redis` has had a marker echoed. */
  async take(redis: Connected, marker: string, subject: string): Promise<string[]> {
    const seen = new Promise<void>((done) => {
      this.waiting = { marker, done }
    })
    await redis.raw(undefined, ['ECHO', marker])
    await seen
    const sent = this.sent
    this.sent = []
    return sent.filter(({ line }) => line.includes(subject)).map(({ command }) => command)
  }

  close(): void {
    this.socket.destroy()
  }
}

describe.skipIf(!haveRedis)('round trips of each operation (commands clients send, from MONITOR)', () => {
  // A server of this file's own: another file's SCRIPT FLUSH or restart would add NOSCRIPT retries to the counts.
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server?.stop())

  for (const library of LIBRARIES) {
    describe(library, () => {
      let redis: Connected
      let monitor: Monitor
      const prefix = uniquePrefix()
      beforeAll(async () => {
        redis = await connect({ library, topology: 'single' }, { url: server.url, clusterUrls: [], sentinel: { name: '', nodes: [] } })
        monitor = await Monitor.open(server.url, prefix)
      })
      afterAll(() => monitor.close())

      it('a Store hit 1 (GET), a miss 3 (GET, SET NX GET, fill), a set or a delete 1 (fence, write and Bus message in one script); a miss over a tombstone 3 (GET, acquire script, fill)', async () => {
        // Tag records are read again once older than the local tier's ttl: an hour here, so none is due during the test.
        const herd = createHerd({ ...redisBackend(redis.client, { prefix }), local: { ttl: '1h' }, ttl: '1h' })
        const storeOnly = { local: false } as const
        try {
          // Subscriptions, the first clock reading and each script's first run (EVAL after NOSCRIPT), outside the counts.
          await herd.fetch('warm', async () => 0, storeOnly)
          await herd.set('warm', 1)
          await herd.delete('warm')
          await herd.fetch('warm', async () => 2, storeOnly)
          let n = 0
          const marker = () => `${prefix}marker:${++n}`
          await monitor.take(redis, marker(), '{cold}')

          // The miss, then at once a hit: the hit reads the Store, not the miss's finished flight.
          await herd.fetch('cold', async () => ({ a: 1 }), storeOnly)
          expect(await herd.fetchEntry('cold', async () => ({ a: 2 }), storeOnly)).toMatchObject({ value: { a: 1 }, status: 'hit' })
          expect(await monitor.take(redis, marker(), '{cold}')).toEqual(['get', 'set', 'evalsha', 'get'])

          expect(await herd.fetch('cold', async () => ({ a: 2 }), storeOnly)).toEqual({ a: 1 })
          expect(await monitor.take(redis, marker(), '{cold}')).toEqual(['get'])

          await herd.set('cold', { a: 3 })
          expect(await monitor.take(redis, marker(), '{cold}')).toEqual(['evalsha'])
          expect(await herd.fetch('cold', async () => ({ a: 4 }), storeOnly)).toEqual({ a: 3 })
          await monitor.take(redis, marker(), '{cold}')

          await herd.delete('cold')
          expect(await monitor.take(redis, marker(), '{cold}')).toEqual(['evalsha'])
          await monitor.take(redis, marker(), '{cold}')
          // The Store read found the tombstone, so the lease is the scripted one (SET NX would find the tombstone there).
          expect(await herd.fetch('cold', async () => ({ a: 5 }), storeOnly)).toEqual({ a: 5 })
          expect(await monitor.take(redis, marker(), '{cold}')).toEqual(['get', 'evalsha', 'evalsha'])
        } finally {
          await herd.close()
        }
      })

      it('fetchMany of cold keys: one MGET, then a SET NX GET and a fill per key', async () => {
        const herd = createHerd({ ...redisBackend(redis.client, { prefix }), local: { ttl: '1h' }, ttl: '1h' })
        const storeOnly = { local: false } as const
        const load = async (ids: readonly string[]) => ids.map((id) => ({ id }))
        try {
          await herd.fetchMany(['warm-1', 'warm-2'], load, storeOnly)
          await monitor.take(redis, `${prefix}many:0`, '{batch')
          expect(await herd.fetchMany(['batch-1', 'batch-2', 'batch-3'], load, storeOnly)).toEqual([
            { id: 'batch-1' },
            { id: 'batch-2' },
            { id: 'batch-3' },
          ])
          const sent = await monitor.take(redis, `${prefix}many:1`, '{batch')
          expect(sent.sort()).toEqual(['evalsha', 'evalsha', 'evalsha', 'mget', 'set', 'set', 'set'])
        } finally {
          await herd.close()
        }
      })
    })
  }
})

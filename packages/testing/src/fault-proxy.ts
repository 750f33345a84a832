/**
 * A TCP proxy on 127.0.0.1 that puts network faults between a client and a
 * real server (a redis-server, usually), for fault tests that run from the
 * test suite and end on their own:
 *
 *     const proxy = await startFaultProxy({ port: redis.port })
 *     const client = createClient({ url: proxy.url })
 *     proxy.latency(200)   // every chunk, both ways, 200 ms late
 *     proxy.blackhole()    // connections stay open, nothing moves until heal() (a hung network; TCP keeps the bytes)
 *     proxy.reset()        // every connection torn down now (they may reconnect)
 *     proxy.down()         // torn down, and new connections refused until heal()
 *     proxy.heal()         // back to a clean pipe
 *     await proxy.stop()
 *
 * Everything binds to 127.0.0.1; stop() closes every socket and the server.
 */
import { type AddressInfo, createServer, type Server, type Socket, connect } from 'node:net'

export type FaultMode = 'pass' | 'latency' | 'blackhole' | 'down'

export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>`, for `createClient({ url })`. */
  readonly url: string
  readonly mode: FaultMode
  /** Connections accepted so far (reconnects count). */
  readonly connections: number
  latency(ms: number): void
  blackhole(): void
  reset(): void
  down(): void
  heal(): void
  stop(): Promise<void>
}

interface Pair {
  client: Socket
  server: Socket
}

export async function startFaultProxy(target: { port: number; host?: string }): Promise<FaultProxy> {
  const targetHost = target.host ?? '127.0.0.1'
  let mode: FaultMode = 'pass'
  let delayMs = 0
  let accepted = 0
  const pairs = new Set<Pair>()
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (mode === 'latency' && delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer)
          if (!to.destroyed) to.write(chunk)
        }, delayMs)
        timers.add(timer)
        return
      }
      if (!to.destroyed) to.write(chunk)
    })
  }

  const tearDown = (pair: Pair): void => {
    pairs.delete(pair)
    pair.client.destroy()
    pair.server.destroy()
  }

  const server: Server = createServer((client) => {
    accepted++
    if (mode === 'down') {
      client.destroy()
      return
    }
    const upstream = connect({ host: targetHost, port: target.port })
    const pair: Pair = { client, server: upstream }
    pairs.add(pair)
    if (mode === 'blackhole') hold(pair)
    forward(client, upstream)
    forward(upstream, client)
    for (const socket of [client, upstream]) {
      socket.on('error', () => tearDown(pair))
      socket.on('close', () => tearDown(pair))
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  const hold = (pair: Pair): void => {
    pair.client.pause()
    pair.server.pause()
  }

  const resetAll = (): void => {
    for (const pair of [...pairs]) {
      pair.client.resetAndDestroy?.() ?? pair.client.destroy()
      tearDown(pair)
    }
  }

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get mode() {
      return mode
    },
    get connections() {
      return accepted
    },
    latency(ms) {
      mode = 'latency'
      delayMs = ms
    },
    blackhole() {
      mode = 'blackhole'
      for (const pair of pairs) hold(pair)
    },
    reset: resetAll,
    down() {
      mode = 'down'
      resetAll()
    },
    heal() {
      mode = 'pass'
      delayMs = 0
      for (const pair of pairs) {
        pair.client.resume()
        pair.server.resume()
      }
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      resetAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

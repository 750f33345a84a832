import { once } from 'node:events'
import { type AddressInfo, type Socket, connect, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

/*
 * Real timers and real I/O (no fake clock in this file): what a timeout
 * means in a process whose event loop was busy. Timers run before the loop
 * reads its sockets, so an answer can be there, unread, when the deadline
 * check runs.
 */

/** Two ends of a loopback TCP connection: bytes written on `peer` are read by the event loop's poll phase on `client`. */
async function loopback(): Promise<{ client: Socket; peer: Socket; close(): void }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await once(client, 'connect')
  const [peer] = await accepted
  return {
    client,
    peer,
    close() {
      client.destroy()
      peer.destroy()
      server.close()
    },
  }
}

/** Keeps the event loop busy for `ms` (a long task, a burst of work): no timer and no socket is served meanwhile. */
function busy(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until);
}

let herd: Herd | undefined
let wire: Awaited<ReturnType<typeof loopback>> | undefined
afterEach(async () => {
  await herd?.close()
  wire?.close()
})

describe('a busy process is not a slow backend', () => {
  it("a Store's answer that arrived while the process was busy past operationTimeout is taken, not counted as a timeout", async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, operationTimeout: 20, breaker: false })
    await herd.set('k', 'stored')
    wire = await loopback()
    // The next read is answered when a byte comes in on the socket, as a network client's is.
    const read = store.get.bind(store)
    const client = wire.client
    let reads = 0
    store.get = (key) => (reads++ > 0 ? read(key) : new Promise((resolve) => client.once('data', () => resolve(read(key)))))
    const errors: string[] = []
    herd.on('error', (e) => errors.push(`${e.source}: ${String(e.error)}`))
    const loader = countingLoader('loaded')

    const fetched = herd.fetch('k', loader)
    // The answer goes out now and reaches the socket at once (loopback); this process reads it only after being
    // busy for longer than operationTimeout: the deadline has passed by the time the loop gets to the socket.
    wire.peer.write('x')
    busy(60)
    await expect(fetched).resolves.toBe('stored')
    expect(loader.calls).toBe(0)
    expect(errors).toEqual([])
  })

  it('an answer that has not come when the loop next reads its sockets is a timeout, as before', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, operationTimeout: 20, breaker: false })
    await herd.set('k', 'stored')
    store.mode = 'hang'
    const errors: string[] = []
    herd.on('error', (e) => errors.push(e.source))
    const loader = countingLoader('loaded')
    const fetched = herd.fetch('k', loader)
    busy(60)
    await expect(fetched).resolves.toBe('loaded')
    expect(loader.calls).toBe(1)
    expect(errors).toContain('store')
  })
})

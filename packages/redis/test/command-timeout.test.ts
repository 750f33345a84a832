import { once } from 'node:events'
import { type AddressInfo, type Socket, connect, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Commands } from '../src/commands.js'
import { RedisCommandTimeoutError } from '../src/errors.js'
import type { CommandPort } from '../src/port/index.js'

/*
 * The adapter's own command deadline in a process whose event loop was busy
 * (no Redis needed: the "reply" is a byte on a loopback socket, read by the
 * loop's poll phase as a client's reply is). Timers run before that read.
 */

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

function busy(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until);
}

/** A port whose every command is answered by the next byte on `socket` ('hang': never). */
function portOn(socket: Socket | 'hang'): CommandPort {
  return {
    library: 'node-redis',
    topology: 'standalone',
    isReady: () => true,
    send: () => (socket === 'hang' ? new Promise(() => {}) : new Promise((resolve) => socket.once('data', () => resolve('OK')))),
    openPubSub: () => {
      throw new Error('not in this test')
    },
  }
}

let wire: Awaited<ReturnType<typeof loopback>> | undefined
afterEach(() => wire?.close())

describe('commandTimeout in a busy process', () => {
  it('a reply that arrived while the process was busy past the deadline is the answer, not a timeout', async () => {
    wire = await loopback()
    const commands = new Commands(portOn(wire.client), 20)
    const reply = commands.send('k', false, ['GET', 'k'])
    wire.peer.write('x')
    busy(60)
    await expect(reply).resolves.toBe('OK')
  })

  it('a reply that has not come when the loop next reads its sockets times out, as before', async () => {
    const commands = new Commands(portOn('hang'), 20)
    const reply = commands.send('k', false, ['GET', 'k'])
    busy(60)
    await expect(reply).rejects.toBeInstanceOf(RedisCommandTimeoutError)
  })
})

import type { Bus, BusListener, BusMessage } from '@herd/core'
import { bounded, type RedisClient } from './commands.js'
import { type RedisBusOptions, ignore, resolve } from './options.js'
import { Subscriber } from './subscriber.js'

const KINDS = new Set<unknown>(['set', 'expire', 'delete', 'invalidate'])

function parse(raw: string): BusMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<BusMessage>
    if (KINDS.has(m.kind) && typeof m.key === 'string' && typeof m.origin === 'string') {
      if (typeof m.at === 'number') return { kind: m.kind!, key: m.key, origin: m.origin, at: m.at }
      return { kind: m.kind!, key: m.key, origin: m.origin }
    }
  } catch {
    // not ours
  }
  return undefined
}

/**
 * Invalidations on one channel per prefix (`herd:bus`), PUBLISH through the
 * user's client and SUBSCRIBE on the shared pub/sub connection. Plain
 * PUBLISH reaches every node of a Cluster. Best effort, as the contract says:
 * a message lost while disconnected is covered by the local tier's own TTL.
 */
export function redisBus(client: RedisClient, options: RedisBusOptions = {}): Bus {
  const { commands, keys } = resolve(client, options, 'redisBus')
  const listeners = new Set<BusListener>()
  let subscriber: Subscriber | undefined
  let subscribed: Promise<void> | undefined
  let closed = false

  const dispatch = (raw: string) => {
    const message = parse(raw)
    if (message === undefined) return
    for (const listener of listeners) {
      try {
        listener(message)
      } catch {
        // one listener's bug must not starve the others
      }
    }
  }

  const drop = async (listener: BusListener) => {
    if (!listeners.delete(listener) || listeners.size > 0 || subscriber === undefined) return
    subscribed = undefined
    await bounded(subscriber.unsubscribe(keys.bus, dispatch), commands.timeoutMs, 'UNSUBSCRIBE')
  }

  return {
    async publish(message) {
      const payload = JSON.stringify({ kind: message.kind, key: message.key, origin: message.origin, at: message.at })
      // Routed by the channel name, so on a Cluster every publish leaves from one node, in order.
      await commands.send(keys.bus, false, ['PUBLISH', keys.bus, payload])
    },

    async subscribe(listener) {
      if (closed) throw new Error('@herd/redis: subscribe() after close()')
      subscriber ??= Subscriber.for(client, options.onError ?? ignore)
      listeners.add(listener)
      subscribed ??= subscriber.subscribe(keys.bus, dispatch)
      try {
        await bounded(subscribed, commands.timeoutMs, 'SUBSCRIBE')
      } catch (error) {
        subscribed = undefined
        await drop(listener).catch(ignore)
        throw error
      }
      return () => drop(listener).catch(ignore)
    },

    async close() {
      if (closed) return
      closed = true
      listeners.clear()
      subscribed = undefined
      subscriber?.release()
    },
  }
}

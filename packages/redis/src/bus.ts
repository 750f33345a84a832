import type { Bus, BusListener, BusMessage } from '@herd/core'
import { bounded } from './commands.js'
import { remember } from './origin.js'
import { type RedisBusOptions, ignore, resolve } from './options.js'
import type { RedisClient } from './port/index.js'
import { Subscriber } from './subscriber.js'

const KINDS = new Set<unknown>(['set', 'expire', 'delete', 'invalidate'])

function parse(raw: string): BusMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<BusMessage>
    if (KINDS.has(m.kind) && typeof m.key === 'string' && typeof m.origin === 'string') {
      const message: BusMessage = { kind: m.kind!, key: m.key, origin: m.origin }
      if (typeof m.at === 'number') message.at = m.at
      if (typeof m.fence === 'number') message.fence = m.fence
      return message
    }
  } catch {
    // not ours
  }
  return undefined
}

/**
 * A BusMessage as it goes on the wire (the fused Lock's scripts publish the
 * same, adding the fence they took as `"fence":<n>` before the closing
 * brace: see scripts.ts).
 */
export function busPayload(message: BusMessage): string {
  return JSON.stringify({ kind: message.kind, key: message.key, origin: message.origin, at: message.at, fence: message.fence })
}

/**
 * Invalidations on one channel per prefix (`herd:bus`), published through
 * the user's client and received on the shared pub/sub connection. On a
 * Cluster the channel is sharded (SPUBLISH / SSUBSCRIBE): one shard carries
 * it instead of every node. Best effort, as the contract says: a message
 * lost while disconnected is covered by the local tier's own TTL.
 */
export function redisBus(client: RedisClient, options: RedisBusOptions = {}): Bus {
  const resolved = resolve(client, options, 'redisBus')
  const { commands, keys, port, sharded } = resolved
  const publishCommand = sharded ? 'SPUBLISH' : 'PUBLISH'
  const listeners = new Set<BusListener>()
  /** Per listener, what to call when the subscription is back after an interruption (the contract's onResubscribe). */
  const gaps = new Map<BusListener, () => void>()
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
    gaps.get(listener)?.()
    gaps.delete(listener)
    if (!listeners.delete(listener) || listeners.size > 0 || subscriber === undefined) return
    subscribed = undefined
    await bounded(subscriber.unsubscribe(keys.bus, dispatch), commands.timeoutMs, 'UNSUBSCRIBE')
  }

  const bus: Bus = {
    async publish(message) {
      // Routed by the channel name, so on a Cluster every publish leaves from one node, in order.
      await commands.send(keys.bus, false, [publishCommand, keys.bus, busPayload(message)])
    },

    async subscribe(listener, subscribeOptions?: { onResubscribe?: () => void }) {
      if (closed) throw new Error('@herd/redis: subscribe() after close()')
      subscriber ??= Subscriber.for(port, bus, options.onError ?? ignore)
      listeners.add(listener)
      const onResubscribe = subscribeOptions?.onResubscribe
      if (typeof onResubscribe === 'function') gaps.set(listener, subscriber.onResubscribe(onResubscribe))
      subscribed ??= subscriber.subscribe(keys.bus, sharded, dispatch)
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
      for (const remove of gaps.values()) remove()
      gaps.clear()
      subscribed = undefined
      subscriber?.release(bus)
    },
  }
  remember(bus, client, resolved)
  return bus
}

import { HerdArgumentError, type Bus, type BusListener, type BusMessage } from '@herd/core'
import { assertKey, assertObject, describe } from './validate.js'

export interface MemoryBusOptions {
  /**
   * Told what a listener threw; the other listeners still get the message.
   * Default: a process warning (code HERD_BUS_LISTENER), never a crash.
   */
  onListenerError?: (error: unknown, message: BusMessage) => void
}

export interface MemoryBus extends Bus {
  /** Drops every listener. The bus holds no resources, so it can be subscribed to again afterwards. */
  close(): Promise<void>
}

const KINDS: ReadonlySet<string> = new Set<BusMessage['kind']>(['set', 'expire', 'delete', 'invalidate'])

/**
 * Invalidations between herds in one process: give every herd the same
 * memoryBus(). Delivery is asynchronous, like a network bus, and reaches the
 * publisher's own listeners too (a herd skips messages with its own origin).
 */
export function memoryBus({ onListenerError = warn }: MemoryBusOptions = {}): MemoryBus {
  // One record per subscribe() call: the same function subscribed twice is
  // two subscriptions, each with its own unsubscribe, as on Redis.
  const subscriptions = new Set<{ listener: BusListener }>()

  return {
    async publish(message) {
      assertMessage(message)
      if (subscriptions.size === 0) return
      const { kind, key, origin, at, fence } = message
      // Who was subscribed when it was published, as a network bus would see it.
      const targets = [...subscriptions]
      queueMicrotask(() => {
        for (const subscription of targets) {
          // Unsubscribed since: no delivery after unsubscribe() resolved.
          if (!subscriptions.has(subscription)) continue
          // Each listener gets its own copy, so one can't change what the next sees.
          const copy: BusMessage = { kind, key, origin }
          if (at !== undefined) copy.at = at
          if (fence !== undefined) copy.fence = fence
          try {
            subscription.listener(copy)
          } catch (error) {
            // Reported on its own microtask, so even a throwing reporter can't stop delivery.
            queueMicrotask(() => onListenerError(error, copy))
          }
        }
      })
    },

    async subscribe(listener) {
      if (typeof listener !== 'function') {
        throw new HerdArgumentError(`herd: subscribe() needs a listener function; got ${describe(listener)}`)
      }
      const subscription = { listener }
      subscriptions.add(subscription)
      return async () => {
        subscriptions.delete(subscription)
      }
    },

    async close() {
      subscriptions.clear()
    },
  }
}

function assertMessage(message: BusMessage): void {
  const raw: unknown = message
  assertObject(raw, 'message')
  if (typeof raw.kind !== 'string' || !KINDS.has(raw.kind)) {
    throw new HerdArgumentError(`herd: message.kind must be 'set', 'expire', 'delete' or 'invalidate'; got ${describe(raw.kind)}`)
  }
  assertKey(raw.key, 'publish')
  if (typeof raw.origin !== 'string') {
    throw new HerdArgumentError(`herd: message.origin must be a string; got ${describe(raw.origin)}`)
  }
  if (raw.at !== undefined && (typeof raw.at !== 'number' || !Number.isFinite(raw.at))) {
    throw new HerdArgumentError(`herd: message.at must be a finite number when given; got ${describe(raw.at)}`)
  }
  if (raw.fence !== undefined && !(Number.isSafeInteger(raw.fence) && (raw.fence as number) >= 0)) {
    throw new HerdArgumentError(`herd: message.fence must be a whole number >= 0 when given; got ${describe(raw.fence)}`)
  }
}

function warn(error: unknown, message: BusMessage): void {
  process.emitWarning(`herd: a bus listener threw on a '${message.kind}' message for ${JSON.stringify(message.key)}`, {
    type: 'HerdWarning',
    code: 'HERD_BUS_LISTENER',
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  })
}

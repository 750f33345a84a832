import type { Bus, BusMessage } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { type Factory, perTest, type SuiteOptions } from './harness.js'

/**
 * Called more than once per test: every call is one participant (one
 * process's Bus), and all the calls in a test must share one medium. For an
 * in-process bus return the same instance each time; for a networked bus
 * return a new Bus on its own connection, so messages really cross the wire.
 */
export type BusFactory = Factory<Bus>
export type BusSuiteOptions = SuiteOptions<Bus>

/** Generous for a noisy machine; only reached when a message never arrives. */
const DELIVERY_TIMEOUT = 3_000

/** Collects what a listener receives; only this test's keys, since a shared medium may carry other traffic. */
export class Inbox {
  readonly messages: BusMessage[] = []
  private notify: (() => void) | undefined

  constructor(private readonly prefix: string) {}

  readonly listener = (message: BusMessage): void => {
    if (!message.key.startsWith(this.prefix)) return
    // The contract's fields only: an adapter may carry more.
    const { kind, key, origin, at, fence } = message
    const copy: BusMessage = { kind, key, origin }
    if (at !== undefined) copy.at = at
    if (fence !== undefined) copy.fence = fence
    this.messages.push(copy)
    this.notify?.()
  }

  /** Resolves with the messages once `count` have arrived (or at the deadline, for the assertion to report). */
  async until(count: number): Promise<BusMessage[]> {
    if (this.messages.length < count) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          this.notify = undefined
          resolve()
        }
        const timer = setTimeout(done, DELIVERY_TIMEOUT)
        this.notify = () => {
          if (this.messages.length >= count) done()
        }
      })
    }
    return this.messages
  }
}

/**
 * Everything herd relies on from a Bus. Call it at the top level of a vitest
 * file; see BusFactory for what `factory` must return.
 */
export function busSuite(name: string, factory: BusFactory, options?: BusSuiteOptions): void {
  describe(`${name} (Bus conformance)`, () => {
    const { key, create, defer } = perTest(factory, options)

    /** Subscribes a new inbox; the listener is taken back after the test, before the participants close. */
    async function listen(bus: Bus): Promise<Inbox> {
      const inbox = new Inbox(key(''))
      defer(await bus.subscribe(inbox.listener))
      return inbox
    }

    const message = (kind: BusMessage['kind'], suffix: string, origin = 'herd-a'): BusMessage => ({ kind, key: key(suffix), origin })

    it('a message published by one participant reaches another with every field intact', async () => {
      const [publisher, receiver] = [await create(), await create()]
      const inbox = await listen(receiver)
      const sent = message('set', 'ünïcødé {tag}:"quoted" with spaces\nand a newline', 'origin 🐘 {x}')
      await publisher.publish(sent)
      expect(await inbox.until(1)).toStrictEqual([sent])
    })

    it('delivers every kind of message', async () => {
      const [publisher, receiver] = [await create(), await create()]
      const inbox = await listen(receiver)
      const sent = [
        message('set', 'a'),
        // A set's fence (a microsecond time, past 2^50): kept exactly, so a herd can tell the entry it already holds.
        { ...message('set', 'e'), fence: 1_795_910_400_123_457 },
        message('expire', 'b'),
        message('delete', 'c'),
        { ...message('invalidate', 'd'), at: 1_795_910_400_123.5 },
      ]
      for (const m of sent) await publisher.publish(m)
      expect(await inbox.until(5)).toStrictEqual(sent)
    })

    it('several listeners, on one participant or several, each receive every message once', async () => {
      const [publisher, b, c] = [await create(), await create(), await create()]
      const inboxes = [await listen(b), await listen(b), await listen(c)]
      const sent = [message('delete', 'k'), message('set', 'after')]
      for (const m of sent) await publisher.publish(m)
      // In-order delivery: once the second message is in, a duplicate of the first would be too.
      for (const inbox of inboxes) expect(await inbox.until(2)).toStrictEqual(sent)
    })

    it('unsubscribe stops delivery to that listener only', async () => {
      const [publisher, receiver] = [await create(), await create()]
      const gone = new Inbox(key(''))
      const unsubscribe = await receiver.subscribe(gone.listener)
      const stays = await listen(receiver)
      await unsubscribe()
      await unsubscribe() // a second call is harmless
      const sent = [message('expire', 'k'), message('set', 'after')]
      for (const m of sent) await publisher.publish(m)
      expect(await stays.until(2)).toStrictEqual(sent)
      expect(gone.messages).toEqual([])
    })

    it('messages from one publisher arrive in the order they were published', async () => {
      const [publisher, receiver] = [await create(), await create()]
      const inbox = await listen(receiver)
      const kinds = ['set', 'expire', 'delete'] as const
      const sent = Array.from({ length: 30 }, (_, i) => message(kinds[i % 3]!, `k${i}`))
      // Published back to back without waiting in between, as a busy herd would.
      await Promise.all(sent.map((m) => publisher.publish(m)))
      expect(await inbox.until(sent.length)).toStrictEqual(sent)
    })
  })
}

import { type BusMessage, HerdArgumentError } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { memoryBus } from '../src/index.js'

const message: BusMessage = { kind: 'set', key: 'user:1', origin: 'herd-a' }

/** Lets every queued microtask (the bus delivers on one) run first. */
const delivered = () => new Promise((resolve) => setImmediate(resolve))

describe('memoryBus', () => {
  it('delivers asynchronously, to the publisher’s own listeners too (a herd skips its own origin)', async () => {
    const bus = memoryBus()
    const received: BusMessage[] = []
    await bus.subscribe((m) => received.push(m))
    const publishing = bus.publish(message)
    expect(received).toEqual([]) // not from inside publish()
    await publishing
    await delivered()
    expect(received).toEqual([message])
  })

  it('a throwing listener is reported and the others still get the message', async () => {
    const errors: Array<[unknown, BusMessage]> = []
    const bus = memoryBus({ onListenerError: (error, m) => errors.push([error, m]) })
    const received: string[] = []
    await bus.subscribe(() => received.push('first'))
    await bus.subscribe(() => {
      throw new Error('listener bug')
    })
    await bus.subscribe(() => received.push('third'))
    await bus.publish(message)
    await delivered()
    expect(received).toEqual(['first', 'third'])
    expect(errors).toHaveLength(1)
    expect((errors[0]![0] as Error).message).toBe('listener bug')
    expect(errors[0]![1]).toEqual(message)
  })

  it('by default reports a throwing listener as a process warning, not a crash', async () => {
    const bus = memoryBus()
    await bus.subscribe(() => {
      throw new Error('listener bug')
    })
    const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve))
    await bus.publish(message)
    const warning = await warned
    expect(warning.code).toBe('HERD_BUS_LISTENER')
    expect(warning.message).toContain('user:1')
  })

  it('gives each listener its own copy of the message', async () => {
    const bus = memoryBus()
    const seen: BusMessage[] = []
    await bus.subscribe((m) => {
      m.key = 'changed by a listener'
    })
    await bus.subscribe((m) => seen.push(m))
    const sent = { ...message }
    await bus.publish(sent)
    await delivered()
    expect(seen).toEqual([message])
    expect(sent).toEqual(message)
  })

  it('treats one function subscribed twice as two subscriptions', async () => {
    const bus = memoryBus()
    const received: BusMessage[] = []
    const listener = (m: BusMessage) => received.push(m)
    const unsubscribeFirst = await bus.subscribe(listener)
    await bus.subscribe(listener)
    await unsubscribeFirst()
    await bus.publish(message)
    await delivered()
    expect(received).toEqual([message])
  })

  it('does not deliver to a listener subscribed after the message was published', async () => {
    const bus = memoryBus()
    const early: BusMessage[] = []
    const late: BusMessage[] = []
    await bus.subscribe((m) => early.push(m))
    const publishing = bus.publish(message)
    await bus.subscribe((m) => late.push(m))
    await publishing
    await delivered()
    expect(early).toEqual([message])
    expect(late).toEqual([])
  })

  it('close() drops every listener, and the bus can be used again', async () => {
    const bus = memoryBus()
    const before: BusMessage[] = []
    const after: BusMessage[] = []
    await bus.subscribe((m) => before.push(m))
    await bus.close()
    await bus.subscribe((m) => after.push(m))
    await bus.publish(message)
    await delivered()
    expect(before).toEqual([])
    expect(after).toEqual([message])
  })

  describe('rejects bad arguments with a HerdArgumentError', () => {
    const bus = memoryBus()
    const bad = (value: unknown) => value as never
    it.each([
      ['publish with no message', () => bus.publish(bad(undefined))],
      ['publish with an unknown kind', () => bus.publish(bad({ ...message, kind: 'flush' }))],
      ['publish with an empty key', () => bus.publish({ ...message, key: '' })],
      ['publish with no origin', () => bus.publish(bad({ kind: 'set', key: 'k' }))],
      ['subscribe with a non-function', () => bus.subscribe(bad('listener'))],
    ])('%s', async (_label, call) => {
      await expect(call()).rejects.toBeInstanceOf(HerdArgumentError)
    })
  })
})

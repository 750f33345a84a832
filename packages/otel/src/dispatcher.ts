import { type TracingChannel, subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import type { BreakerMessage, BusEventMessage, FetchContext, LoadContext, LockContext, WriteContext } from '@herd/core'
import { diag } from '@opentelemetry/api'

/** The tracing channels core publishes (their names are public API, documented in @herd/core's diagnostics.ts). */
export interface Traced {
  'herd:fetch': FetchContext
  'herd:load': LoadContext
  'herd:lock': LockContext
  'herd:write': WriteContext
}
export type TracedName = keyof Traced

/** What one instrumented herd hears: each traced operation's start and end, and the plain channels' messages. */
export interface Sink {
  start<N extends TracedName>(name: N, context: Traced[N]): void
  /** The operation is over: `context` holds its outcome, or its `error`. */
  finish<N extends TracedName>(name: N, context: Traced[N]): void
  breaker(message: BreakerMessage): void
  bus(message: BusEventMessage): void
  /** Instrumentation stops: let go of what is still open. */
  close(): void
}

const TRACED: readonly TracedName[] = ['herd:fetch', 'herd:load', 'herd:lock', 'herd:write']

/**
 * One subscription per channel for the whole process, shared by every
 * instrumented herd and routed by the context's `herd` id: N herds cost one
 * map lookup per event, not N handlers. Subscribed while at least one herd
 * is instrumented; with none, core sees no subscribers and builds nothing.
 */
const sinks = new Map<string, Sink>()
// Held here so the channels (weakly referenced by node:diagnostics_channel) live as long as the subscription.
const channels = new Map<TracedName, TracingChannel<unknown, object>>()
const handlers = new Map<TracedName, Parameters<TracingChannel<unknown, object>['subscribe']>[0]>()

function route(herd: string, deliver: (sink: Sink) => void): void {
  const sink = sinks.get(herd)
  if (sink === undefined) return
  // A throw in a diagnostics_channel subscriber surfaces as an uncaught exception: never let one out.
  try {
    deliver(sink)
  } catch (error) {
    diag.error('@herd/otel: recording failed', error)
  }
}

function handlersFor<N extends TracedName>(name: N) {
  return {
    start: (message: unknown) => {
      const context = message as Traced[N]
      route(context.herd, (sink) => sink.start(name, context))
    },
    // `end` comes when the traced function returned. With `error` already set, it threw synchronously and no asyncEnd will follow.
    end: (message: unknown) => {
      const context = message as Traced[N]
      if ('error' in context) route(context.herd, (sink) => sink.finish(name, context))
    },
    asyncStart: () => {},
    asyncEnd: (message: unknown) => {
      const context = message as Traced[N]
      route(context.herd, (sink) => sink.finish(name, context))
    },
    error: () => {},
  }
}

const onBreaker = (message: unknown): void => route((message as BreakerMessage).herd, (sink) => sink.breaker(message as BreakerMessage))
const onBus = (message: unknown): void => route((message as BusEventMessage).herd, (sink) => sink.bus(message as BusEventMessage))

function subscribeAll(): void {
  for (const name of TRACED) {
    const channel = tracingChannel<unknown, object>(name)
    const handler = handlersFor(name)
    channels.set(name, channel)
    handlers.set(name, handler)
    channel.subscribe(handler)
  }
  subscribe('herd:breaker', onBreaker)
  subscribe('herd:bus', onBus)
}

function unsubscribeAll(): void {
  for (const [name, channel] of channels) channel.unsubscribe(handlers.get(name)!)
  channels.clear()
  handlers.clear()
  unsubscribe('herd:breaker', onBreaker)
  unsubscribe('herd:bus', onBus)
}

/** Whether a herd (by id) is instrumented in this process. */
export function isAttached(herd: string): boolean {
  return sinks.has(herd)
}

/** Routes the herd's events to `sink` until the returned function is called. */
export function attach(herd: string, sink: Sink): () => void {
  if (sinks.size === 0) subscribeAll()
  sinks.set(herd, sink)
  let attached = true
  return () => {
    if (!attached) return
    attached = false
    sinks.delete(herd)
    if (sinks.size === 0) unsubscribeAll()
    sink.close()
  }
}

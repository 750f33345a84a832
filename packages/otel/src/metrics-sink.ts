import type { BreakerMessage, BusEventMessage } from '@herd/core'
import type { Attributes } from '@opentelemetry/api'
import { type AttributeBase, errorType } from './attributes.js'
import type { Sink, Traced, TracedName } from './dispatcher.js'
import type { Instruments } from './instruments.js'
import { ATTR } from './names.js'
import type { Tally } from './tally.js'

/** Turns each finished operation of one herd into counts and durations. */
export class MetricsSink implements Sink {
  constructor(
    private readonly instruments: Instruments,
    private readonly attributes: AttributeBase,
    private readonly fetches: Tally,
  ) {}

  start(): void {}

  finish<N extends TracedName>(name: N, context: Traced[N]): void {
    switch (name) {
      case 'herd:fetch':
        return this.fetched(context as Traced['herd:fetch'])
      case 'herd:load':
        return this.loaded(context as Traced['herd:load'])
      case 'herd:lock':
        return this.locked(context as Traced['herd:lock'])
      case 'herd:write':
        return this.written(context as Traced['herd:write'])
    }
  }

  /** The hot path (every cache hit): a tally increment; the attributes are built once per set. */
  private fetched(context: Traced['herd:fetch']): void {
    const { status, tier, error } = context
    const group = this.attributes.group(context.key)
    const failure = error === undefined ? undefined : errorType(error)
    const id = `${status}|${tier}|${group}|${failure}`
    if (this.fetches.increment(id)) return
    const extra: Attributes = {}
    if (status !== undefined) extra[ATTR.fetchStatus] = status
    if (tier !== undefined) extra[ATTR.tier] = tier
    if (failure !== undefined) extra[ATTR.errorType] = failure
    this.fetches.start(id, this.attributes.forGroup(group, extra))
  }

  private loaded(context: Traced['herd:load']): void {
    const extra: Attributes = { [ATTR.loadReason]: context.reason }
    if (context.error !== undefined) extra[ATTR.errorType] = errorType(context.error)
    // durationMs is set on every loader run, failed or not; without it (the load never reached the loader) there is nothing to time.
    if (context.durationMs !== undefined) this.instruments.loadDuration.record(context.durationMs / 1000, this.attributes.forKey(context.key, extra))
  }

  private locked(context: Traced['herd:lock']): void {
    const extra: Attributes = {}
    if (context.outcome !== undefined) extra[ATTR.lockOutcome] = context.outcome
    if (context.error !== undefined) extra[ATTR.errorType] = errorType(context.error)
    const attributes = this.attributes.forKey(context.key, extra)
    if (context.operation === 'acquire') this.instruments.lockAcquires.add(1, attributes)
    else if (context.waitedMs !== undefined) this.instruments.lockWaitDuration.record(context.waitedMs / 1000, attributes)
  }

  private written(context: Traced['herd:write']): void {
    const extra: Attributes = { [ATTR.writeKind]: context.kind }
    if (context.outcome !== undefined) extra[ATTR.writeOutcome] = context.outcome
    if (context.error !== undefined) extra[ATTR.errorType] = errorType(context.error)
    this.instruments.writes.add(1, this.attributes.forKey(context.key, extra))
  }

  breaker(message: BreakerMessage): void {
    this.instruments.breakerTransitions.add(1, this.attributes.plain({ [ATTR.breakerState]: message.to }))
  }

  bus(message: BusEventMessage): void {
    this.instruments.busMessages.add(1, this.attributes.forKey(message.key, { [ATTR.busDirection]: message.direction, [ATTR.busKind]: message.kind }))
  }

  close(): void {}
}

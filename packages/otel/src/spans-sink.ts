import { type Attributes, type Span, SpanKind, SpanStatusCode, type Tracer, context as otelContext } from '@opentelemetry/api'
import { type AttributeBase, errorType } from './attributes.js'
import type { Sink, Traced, TracedName } from './dispatcher.js'
import { ATTR, SPANS } from './names.js'

export interface SpanChoices {
  /** `herd.key` on spans. */
  keys: boolean
  /** `herd.load` and `herd.lock.wait` spans. */
  loadsAndWaits: boolean
  /** `herd.fetch` spans. */
  fetches: boolean
}

/**
 * Spans for loads and lock waits (and, when asked, fetches), each from the
 * operation's start to its end, parented to whatever span was active when
 * it started (the request that missed, or that triggered a refresh).
 *
 * The span is not made active while the loader runs: that needs the context
 * manager's own AsyncLocalStorage bound to the channel, which the
 * OpenTelemetry API does not expose. Spans the loader starts (a database
 * query) are siblings of `herd.load` under the same parent.
 */
export class SpansSink implements Sink {
  // Keyed by the operation's context object: the same object reaches start and finish.
  private readonly open = new Map<object, Span>()

  constructor(
    private readonly tracer: Tracer,
    private readonly attributes: AttributeBase,
    private readonly choices: SpanChoices,
  ) {}

  start<N extends TracedName>(name: N, context: Traced[N]): void {
    const span = this.spanFor(name, context)
    if (span !== undefined) this.open.set(context, span)
  }

  private spanFor<N extends TracedName>(name: N, context: Traced[N]): Span | undefined {
    switch (name) {
      case 'herd:load': {
        if (!this.choices.loadsAndWaits) return undefined
        const load = context as Traced['herd:load']
        return this.begin(SPANS.load, load.key, { [ATTR.loadReason]: load.reason, [ATTR.loadBackground]: load.background })
      }
      case 'herd:lock':
        return this.choices.loadsAndWaits && (context as Traced['herd:lock']).operation === 'wait'
          ? this.begin(SPANS.lockWait, context.key, {})
          : undefined
      case 'herd:fetch':
        return this.choices.fetches ? this.begin(SPANS.fetch, context.key, {}) : undefined
      default:
        return undefined
    }
  }

  private begin(name: string, key: string, extra: Attributes): Span {
    const attributes = this.attributes.forKey(key, extra)
    if (this.choices.keys) attributes[ATTR.key] = key
    return this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, otelContext.active())
  }

  finish<N extends TracedName>(name: N, context: Traced[N]): void {
    const span = this.open.get(context)
    if (span === undefined) return
    this.open.delete(context)
    if (name === 'herd:lock') {
      const lock = context as Traced['herd:lock']
      if (lock.outcome !== undefined) span.setAttribute(ATTR.lockOutcome, lock.outcome)
    } else if (name === 'herd:fetch') {
      const fetch = context as Traced['herd:fetch']
      if (fetch.status !== undefined) span.setAttribute(ATTR.fetchStatus, fetch.status)
      if (fetch.tier !== undefined) span.setAttribute(ATTR.tier, fetch.tier)
    }
    const error = context.error
    if (error !== undefined) {
      span.setAttribute(ATTR.errorType, errorType(error))
      if (error instanceof Error) span.recordException(error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
    }
    span.end()
  }

  breaker(): void {}

  bus(): void {}

  /** Ends what is still open (a load still running when instrumentation stops), so no span is left dangling. */
  close(): void {
    for (const span of this.open.values()) span.end()
    this.open.clear()
  }
}

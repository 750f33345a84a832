import { HerdArgumentError } from '@herd/core'
import type { MeterProvider, TracerProvider } from '@opentelemetry/api'

export interface InstrumentHerdOptions {
  /**
   * `herd.name` on every metric and span: tells apart several herds in one
   * service ('users', 'pages'). Without it their series add up.
   */
  name?: string
  /** Where metrics go. Default: the global one (`metrics.getMeterProvider()`), so register yours before calling. */
  meterProvider?: MeterProvider
  /** Where spans go. Default: the global one (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider
  /**
   * A low-cardinality label for a key, recorded as `herd.key.group` (for
   * example `key => key.split(':')[0]`: `user:42` → `user`). Called once per
   * operation, so keep it cheap. Return undefined to leave the attribute out.
   * Keys themselves never become metric attributes: a series per key would
   * swamp any metrics backend.
   */
  keyGroup?: (key: string) => string | undefined
  /** Put the key on spans as `herd.key`. Default false: keys may hold personal data. */
  spanKeys?: boolean
  /** Record metrics. Default true. */
  metrics?: boolean
  /** Record spans for loads (`herd.load`) and lock waits (`herd.lock.wait`). Default true. */
  spans?: boolean
  /** Also a span per fetch() (`herd.fetch`, with its status and tier). Default false: a cache hit is too cheap to trace. */
  fetchSpans?: boolean
}

export interface ResolvedOptions {
  name: string | undefined
  meterProvider: MeterProvider | undefined
  tracerProvider: TracerProvider | undefined
  keyGroup: ((key: string) => string | undefined) | undefined
  spanKeys: boolean
  metrics: boolean
  spans: boolean
  fetchSpans: boolean
}

const KNOWN = new Set(['name', 'meterProvider', 'tracerProvider', 'keyGroup', 'spanKeys', 'metrics', 'spans', 'fetchSpans'])

/** Checks what instrumentHerd() was given; anything wrong is a HerdArgumentError naming the option. */
export function resolveOptions(options: InstrumentHerdOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {}
  if (options === null || typeof options !== 'object') throw new HerdArgumentError(`instrumentHerd(): options must be an object; got ${show(options)}`)
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new HerdArgumentError(`instrumentHerd(): unknown option "${key}"`)
  }
  const { name, meterProvider, tracerProvider, keyGroup } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw new HerdArgumentError(`instrumentHerd(): name must be a non-empty string; got ${show(name)}`)
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw new HerdArgumentError('instrumentHerd(): meterProvider must be an OpenTelemetry MeterProvider (with getMeter())')
  }
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw new HerdArgumentError('instrumentHerd(): tracerProvider must be an OpenTelemetry TracerProvider (with getTracer())')
  }
  if (keyGroup !== undefined && typeof keyGroup !== 'function')
    throw new HerdArgumentError(`instrumentHerd(): keyGroup must be a function; got ${show(keyGroup)}`)
  return {
    name,
    meterProvider,
    tracerProvider,
    keyGroup,
    spanKeys: flag(options, 'spanKeys', false),
    metrics: flag(options, 'metrics', true),
    spans: flag(options, 'spans', true),
    fetchSpans: flag(options, 'fetchSpans', false),
  }
}

function flag(options: InstrumentHerdOptions, key: 'spanKeys' | 'metrics' | 'spans' | 'fetchSpans', fallback: boolean): boolean {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new HerdArgumentError(`instrumentHerd(): ${key} must be true or false; got ${show(value)}`)
  return value
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : String(value)
}

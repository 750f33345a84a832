import { type Attributes, diag } from '@opentelemetry/api'
import { ATTR } from './names.js'
import type { ResolvedOptions } from './options.js'

/** Builds the attributes every signal of one herd shares: its name, and the key's group. */
export class AttributeBase {
  private readonly base: Attributes
  private warned = false

  constructor(private readonly options: Pick<ResolvedOptions, 'name' | 'keyGroup'>) {
    this.base = options.name === undefined ? {} : { [ATTR.name]: options.name }
  }

  /** The herd's attributes, plus `herd.key.group` for `key` when a keyGroup is set, plus `extra`. */
  forKey(key: string, extra: Attributes): Attributes {
    return this.forGroup(this.group(key), extra)
  }

  /** The herd's attributes, plus `herd.key.group` when there is one, plus `extra`. */
  forGroup(group: string | undefined, extra: Attributes): Attributes {
    return group === undefined ? { ...this.base, ...extra } : { ...this.base, [ATTR.keyGroup]: group, ...extra }
  }

  /** The herd's attributes plus `extra`, for operations on no key. */
  plain(extra: Attributes): Attributes {
    return { ...this.base, ...extra }
  }

  /** What keyGroup says of `key` (undefined without one, or when it throws or returns a non-string). */
  group(key: string): string | undefined {
    const keyGroup = this.options.keyGroup
    if (keyGroup === undefined) return undefined
    let group: unknown
    try {
      group = keyGroup(key)
    } catch (error) {
      this.warnOnce('keyGroup threw; recording without herd.key.group', error)
      return undefined
    }
    if (group === undefined || typeof group === 'string') return group
    this.warnOnce(`keyGroup returned ${typeof group}, not a string; recording without herd.key.group`)
    return undefined
  }

  private warnOnce(message: string, error?: unknown): void {
    if (this.warned) return
    this.warned = true
    diag.warn(`@herd/otel: ${message}`, error)
  }
}

/** `error.type` per OpenTelemetry: the error's class name, `_OTHER` for what has none. */
export function errorType(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name
  return typeof name === 'string' && name !== '' ? name : '_OTHER'
}

/**
 * A logger herd writes to: pino's, or anything with the same shape
 * (`logger.warn({ ...fields }, 'message')`). `info` and `debug` are optional.
 */
export interface HerdLogger {
  error(fields: object, message: string): void
  warn(fields: object, message: string): void
  info?(fields: object, message: string): void
  debug?(fields: object, message: string): void
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

/** How often one kind of repeated line (one source's failures) is written; the lines in between are counted. */
const REPEAT_MS = 30_000

/**
 * Writes herd's own lines to the user's logger, never more than one line per
 * kind of trouble per 30 s: an outage is one warning and a count, not a
 * line per request. A logger that throws is ignored.
 */
export class HerdLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>()

  constructor(
    private readonly logger: HerdLogger | undefined,
    private readonly herd: string,
  ) {}

  get enabled(): boolean {
    return this.logger !== undefined
  }

  write(level: LogLevel, fields: object, message: string): void {
    const logger = this.logger
    const method = logger?.[level]
    if (method === undefined) return
    try {
      method.call(logger, { herd: this.herd, ...fields }, message)
    } catch {
      // a broken logger must not break the herd
    }
  }

  /** Like write, once per `kind` per 30 s; the next line says how many were left out. */
  throttled(kind: string, level: LogLevel, fields: object, message: string, now = Date.now()): void {
    if (this.logger === undefined) return
    const seen = this.last.get(kind)
    if (seen !== undefined && now - seen.at < REPEAT_MS) {
      seen.suppressed++
      return
    }
    this.last.set(kind, { at: now, suppressed: 0 })
    this.write(level, seen !== undefined && seen.suppressed > 0 ? { ...fields, suppressed: seen.suppressed } : fields, message)
  }
}

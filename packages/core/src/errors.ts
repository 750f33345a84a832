/** Every error herd raises carries a stable `code` users can switch on. */
export type HerdErrorCode = 'HERD_INVALID_ARGUMENT' | 'HERD_ENCODE' | 'HERD_DECODE' | 'HERD_TIMEOUT' | 'HERD_CLOSED' | 'HERD_UNAVAILABLE'

export class HerdError extends Error {
  readonly code: HerdErrorCode
  constructor(code: HerdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HerdError'
    this.code = code
  }
}

/** Bad input at the call that caused it: a TypeError, as users of the platform expect. */
export class HerdArgumentError extends TypeError {
  readonly code = 'HERD_INVALID_ARGUMENT' as const
  constructor(message: string) {
    super(message)
    this.name = 'HerdArgumentError'
  }
}

/** The codec can't round-trip a value (function, symbol, circular…); nothing was cached. */
export class HerdEncodeError extends TypeError {
  readonly code = 'HERD_ENCODE' as const
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HerdEncodeError'
  }
}

/** Bytes in the Store the codec can't read. Reported as an `error` event; the read counts as a miss. */
export class HerdDecodeError extends HerdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HERD_DECODE', message, options)
    this.name = 'HerdDecodeError'
  }
}

/** The hard timeout fired: the loader's signal was aborted and no stale value could stand in. */
export class HerdTimeoutError extends HerdError {
  readonly key: string
  readonly timeoutMs: number
  constructor(key: string, timeoutMs: number) {
    super('HERD_TIMEOUT', `herd: loading "${key}" took longer than the hard timeout of ${timeoutMs} ms`)
    this.name = 'HerdTimeoutError'
    this.key = key
    this.timeoutMs = timeoutMs
  }
}

/** The herd was closed; the call can't be served. */
export class HerdClosedError extends HerdError {
  constructor(operation: string, pending = false) {
    super('HERD_CLOSED', pending ? `herd: closed while ${operation}() was pending` : `herd: ${operation}() called after close()`)
    this.name = 'HerdClosedError'
  }
}

/**
 * A `{ strict: true }` write or invalidation did not reach the shared tier
 * (the Store, or its breaker, was down). Without `strict` the same call
 * resolves, takes effect in this process at once and is replayed to the
 * fleet when the Store is back.
 */
export class HerdUnavailableError extends HerdError {
  readonly operation: string
  readonly key: string | undefined
  constructor(operation: string, key?: string, options?: { cause?: unknown }) {
    super('HERD_UNAVAILABLE', `herd: ${operation}(${key === undefined ? '' : JSON.stringify(key)}) did not reach the shared tier (strict)`, options)
    this.name = 'HerdUnavailableError'
    this.operation = operation
    this.key = key
  }
}

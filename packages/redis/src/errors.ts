/**
 * Errors @herd/redis raises itself. Everything else (connection refused,
 * READONLY, LOADING, too many MOVED/ASK redirections…) is node-redis' own
 * error, passed through unchanged. All of them reach the herd's circuit
 * breaker, which turns them into latency rather than failed fetches.
 */

/** Redis did not answer within `commandTimeout`; a late reply is ignored. */
export class RedisCommandTimeoutError extends Error {
  readonly code = 'HERD_REDIS_TIMEOUT' as const
  readonly command: string
  readonly timeoutMs: number
  constructor(command: string, timeoutMs: number) {
    super(`@herd/redis: ${command} got no reply within ${timeoutMs} ms`)
    this.name = 'RedisCommandTimeoutError'
    this.command = command
    this.timeoutMs = timeoutMs
  }
}

/** The client is not connected (closed, or reconnecting): failing at once beats queueing behind an outage. */
export class RedisUnavailableError extends Error {
  readonly code = 'HERD_REDIS_UNAVAILABLE' as const
  constructor(command: string) {
    super(`@herd/redis: ${command} not sent, the Redis client is not ready (disconnected or reconnecting)`)
    this.name = 'RedisUnavailableError'
  }
}

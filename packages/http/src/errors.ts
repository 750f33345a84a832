import type { Replay } from './capture.js'

/**
 * A handler run that failed: a 5xx not listed in `statuses`, or a response
 * shorter than its Content-Length. Never stored; stale-if-error may stand in,
 * and the requests that waited on the run are answered with `response`.
 */
export class HandlerFailedError extends Error {
  constructor(
    readonly status: number,
    readonly response: Replay | undefined,
    message = `herdCache: the handler answered ${status}`,
  ) {
    super(message)
    this.name = 'HandlerFailedError'
  }
}

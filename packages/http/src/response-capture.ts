import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { BodyCollector } from './body.js'

export type RunOutcome =
  | { kind: 'response'; status: number; headers: OutgoingHttpHeaders; body: Buffer | undefined }
  | { kind: 'aborted' }
  | { kind: 'error'; error: unknown }

type WriteHead = ServerResponse['writeHead']

/** Applies headers passed to writeHead() with setHeader(), as on-headers does, so getHeaders() sees them. */
function applyHeaders(res: ServerResponse, headers: unknown): void {
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [name, value] of headers as Array<[string, string]>) res.setHeader(name, value)
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(headers[i] as string, headers[i + 1] as string)
    }
  } else if (headers !== null && typeof headers === 'object') {
    for (const name of Object.keys(headers)) {
      const value = (headers as Record<string, string>)[name]
      if (value !== undefined) res.setHeader(name, value)
    }
  }
}

/**
 * Tees a Node response: everything keeps flowing to the client while the
 * status, headers and body are recorded. Hooks writeHead/write/end on the
 * instance, so it sees what reaches the socket from where it is installed:
 * a compressor installed after it (closer to the handler) is seen compressed,
 * one installed before it is not.
 *
 * Resolves at `end()` with the complete body (a slow client never holds up
 * the requests waiting for it), or `aborted` when the response is torn down
 * before the handler ended it: a client that left mid-response never leaves
 * a truncated body behind.
 */
export function captureResponse(
  res: ServerResponse,
  limit: number,
  onHeaders: (status: number, headers: OutgoingHttpHeaders) => void,
): Promise<RunOutcome> {
  const collector = new BodyCollector(limit)
  const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse
  const write = res.write as (...args: unknown[]) => boolean
  const end = res.end as (...args: unknown[]) => ServerResponse
  let headers: OutgoingHttpHeaders | undefined
  let ended = false
  let settle!: (outcome: RunOutcome) => void
  const outcome = new Promise<RunOutcome>((resolve) => (settle = resolve))

  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (headers === undefined) {
      const reason = typeof rest[0] === 'string' ? rest[0] : undefined
      applyHeaders(this, reason === undefined ? rest[0] : rest[1])
      this.statusCode = statusCode
      onHeaders(statusCode, this.getHeaders())
      headers = this.getHeaders()
      return reason === undefined ? writeHead.call(this, statusCode) : writeHead.call(this, statusCode, reason)
    }
    return writeHead.call(this, statusCode, ...rest)
  } as WriteHead
  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
    collector.add(chunk, encoding)
    return write.call(this, chunk, encoding, callback)
  } as ServerResponse['write']
  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    if (ended) return end.call(this, chunk, encoding, callback)
    ended = true
    collector.add(chunk, encoding)
    const result = end.call(this, chunk, encoding, callback)
    // end() wrote the headers if nothing had (implicit writeHead runs through the hook above).
    headers ??= this.getHeaders()
    const status = this.statusCode
    const empty = status === 204 || status === 304
    settle({ kind: 'response', status, headers, body: empty ? Buffer.alloc(0) : collector.body() })
    return result
  } as ServerResponse['end']
  res.once('close', () => {
    if (!ended) settle({ kind: 'aborted' })
  })
  return outcome
}

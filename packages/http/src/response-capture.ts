import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { BodyCollector } from './body.js'

/**
 * What a run produced. `status` and `headers` as they were at herdCache's
 * place in the chain (what the handler and the middleware behind herdCache
 * set: what gets stored); `finalStatus` and `final` as the response left,
 * after middleware in front of herdCache added its late headers (a session
 * cookie, `no-store`, `Vary`): what decides whether it may be shared.
 */
export type RunOutcome =
  | { kind: 'response'; status: number; headers: OutgoingHttpHeaders; finalStatus: number; final: OutgoingHttpHeaders; body: Buffer | undefined }
  | { kind: 'aborted' }
  | { kind: 'error'; error: unknown }

export type OnHeaders = (status: number, headers: OutgoingHttpHeaders) => void

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

export interface HeadersWatch {
  /** Status and headers at herdCache's place in the chain, once writeHead reached it. */
  layer: { status: number; headers: OutgoingHttpHeaders } | undefined
  /** Status and headers as they left, once the innermost writeHead returned. */
  final: { status: number; headers: OutgoingHttpHeaders } | undefined
}

/**
 * Hooks `res.writeHead` where herdCache sits: `onLayer` sees the headers as
 * they reach this point, then the call goes on through the hooks of
 * middleware installed earlier (in front of herdCache: express-session and
 * compression hook writeHead there) and the headers are read again as they
 * left. Implicit writeHeads (from write/end) go through the same instance
 * property, so they are seen too.
 */
export function watchHeaders(res: ServerResponse, onLayer: OnHeaders | undefined, onFinal?: OnHeaders): HeadersWatch {
  const watch: HeadersWatch = { layer: undefined, final: undefined }
  const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (watch.layer !== undefined) return writeHead.call(this, statusCode, ...rest)
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined
    applyHeaders(this, reason === undefined ? rest[0] : rest[1])
    this.statusCode = statusCode
    onLayer?.(statusCode, this.getHeaders())
    watch.layer = { status: statusCode, headers: this.getHeaders() }
    const result = reason === undefined ? writeHead.call(this, statusCode) : writeHead.call(this, statusCode, reason)
    watch.final = { status: this.statusCode, headers: this.getHeaders() }
    onFinal?.(watch.final.status, watch.final.headers)
    return result
  } as WriteHead
  return watch
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
export function captureResponse(res: ServerResponse, limit: number, onLayer: OnHeaders): Promise<RunOutcome> {
  const collector = new BodyCollector(limit)
  const watch = watchHeaders(res, onLayer)
  const write = res.write as (...args: unknown[]) => boolean
  const end = res.end as (...args: unknown[]) => ServerResponse
  let ended = false
  let settle!: (outcome: RunOutcome) => void
  const outcome = new Promise<RunOutcome>((resolve) => (settle = resolve))

  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
    collector.add(chunk, encoding)
    return write.call(this, chunk, encoding, callback)
  } as ServerResponse['write']
  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    if (ended) return end.call(this, chunk, encoding, callback)
    ended = true
    if (typeof chunk !== 'function') collector.add(chunk, encoding)
    const result = end.call(this, chunk, encoding, callback)
    // end() wrote the headers if nothing had (the implicit writeHead runs through the hook above).
    const layer = watch.layer ?? { status: this.statusCode, headers: this.getHeaders() }
    const final = watch.final ?? layer
    const empty = layer.status === 204 || layer.status === 304
    settle({
      kind: 'response',
      status: layer.status,
      headers: layer.headers,
      finalStatus: final.status,
      final: final.headers,
      body: empty ? Buffer.alloc(0) : collector.body(),
    })
    return result
  } as ServerResponse['end']
  res.once('close', () => {
    if (!ended) settle({ kind: 'aborted' })
  })
  return outcome
}

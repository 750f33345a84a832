import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http'
import { Writable } from 'node:stream'

/*
 * A background refresh runs the handler with nobody waiting on the wire: the
 * request that triggered it has been answered (from the stale entry) and its
 * response may be long closed. So a refresh re-dispatches a copy of that
 * request through the app, with a real http.ServerResponse writing into a
 * socket that discards the bytes. herdCache meets the copy on its way (marked
 * with DETACHED) and captures the response at the same point in the
 * middleware chain as for a live request.
 */

/**
 * One property on the request, read once per request: the DetachedRecord of
 * a synthetic refresh request, or `true` once a herdCache has taken a live
 * request (so a second herdCache on the same route steps aside).
 */
export const MARK: unique symbol = Symbol.for('@herd/http.mark')
type Marked = { [MARK]?: DetachedRecord | true }

/** The client's conditional and range headers: a run that fills the cache must produce the full response, not the client's 304 or range. */
const CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']

/** Removes conditional and range headers so the handler answers in full. */
export function stripConditionalHeaders(headers: IncomingHttpHeaders): void {
  for (const name of CONDITIONAL) if (headers[name] !== undefined) delete headers[name]
}

class NullSocket extends Writable {
  remoteAddress: string | undefined
  remotePort: number | undefined
  remoteFamily: string | undefined
  localAddress: string | undefined
  localPort: number | undefined
  encrypted: boolean | undefined

  constructor(from: IncomingMessage['socket'] | undefined) {
    super()
    this.remoteAddress = from?.remoteAddress ?? '127.0.0.1'
    this.remotePort = from?.remotePort
    this.remoteFamily = from?.remoteFamily
    this.localAddress = from?.localAddress
    this.localPort = from?.localPort
    if ((from as { encrypted?: boolean } | undefined)?.encrypted) this.encrypted = true
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback()
  }

  setTimeout(): this {
    return this
  }
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  address(): { address: string | undefined; port: number | undefined } {
    return { address: this.localAddress, port: this.localPort }
  }
}

/** Marks a synthetic request for the herdCache instance (`owner`) that sent it. */
export interface DetachedRecord {
  owner: unknown
  claimed: boolean
}

/** Validators of a stored response, sent on a refresh so the handler may answer 304 instead of the whole body. */
export interface Validators {
  etag?: string
  lastModified?: string
}

/**
 * A GET copy of `from` for `url`, with a response that goes nowhere. Without
 * `validators` it asks for the full response; with them it is a revalidation
 * (If-None-Match / If-Modified-Since of the stored response).
 */
export function detachedExchange(
  from: IncomingMessage,
  url: string,
  record: DetachedRecord,
  validators?: Validators,
): { req: IncomingMessage; res: ServerResponse } {
  const socket = new NullSocket(from.socket ?? undefined)
  const req = new IncomingMessage(socket as never)
  req.method = 'GET'
  req.url = url
  req.httpVersion = '1.1'
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  const headers: IncomingHttpHeaders = { ...from.headers }
  stripConditionalHeaders(headers)
  if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag
  if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified
  req.headers = headers
  const raw: string[] = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (Array.isArray(value)) for (const v of value) raw.push(name, v)
    else if (value !== undefined) raw.push(name, value)
  }
  req.rawHeaders = raw
  req.complete = true
  req.push(null)
  ;(req as Marked)[MARK] = record
  const res = new ServerResponse(req)
  res.assignSocket(socket as never)
  return { req, res }
}

/** The request's mark: its DetachedRecord, `true` when a herdCache has taken it, or undefined. */
export function markOf(req: IncomingMessage): DetachedRecord | true | undefined {
  return (req as Marked)[MARK]
}

export function markSeen(req: IncomingMessage): void {
  ;(req as Marked)[MARK] = true
}

/** True for the copy of a request that herdCache dispatches to refresh an entry in the background (skip logging or rate limits for it). */
export function isBackgroundRefresh(req: IncomingMessage): boolean {
  const mark = markOf(req)
  return mark !== undefined && mark !== true
}

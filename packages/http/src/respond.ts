import type { CapturedResponse, Replay } from './capture.js'
import { HandlerFailedError } from './errors.js'
import type { CacheStatus, Exchange } from './exchange.js'
import { rangeFor } from './range.js'
import { ageOf, isNotModified, prepare } from './serve.js'

/** Answers a request from a stored response: 304 to a matching conditional, 206 / 416 to a Range, else the whole response. */
export function sendStored(ex: Exchange, capture: CapturedResponse, status: CacheStatus, header: string | undefined): Promise<void> | void {
  const p = prepare(capture)
  const { res, req } = ex
  const age = ageOf(capture, Date.now())
  if (isNotModified(req.headers, p)) {
    for (let i = 0; i < p.notModifiedNames.length; i++) res.setHeader(p.notModifiedNames[i]!, p.notModifiedValues[i]!)
    res.setHeader('age', age)
    if (header !== undefined) res.setHeader(header, status)
    return ex.send(304, undefined)
  }
  for (let i = 0; i < p.names.length; i++) res.setHeader(p.names[i]!, p.values[i]!)
  res.setHeader('age', age)
  if (header !== undefined) res.setHeader(header, status)
  if (req.headers.range !== undefined && req.method === 'GET') {
    const range = rangeFor(req.headers, capture)
    if (range.kind === 'unsatisfiable') {
      res.setHeader('content-range', `bytes */${capture.body.length}`)
      res.setHeader('content-length', '0')
      return ex.send(416, Buffer.alloc(0))
    }
    if (range.kind === 'partial') {
      res.setHeader('content-range', `bytes ${range.start}-${range.end}/${capture.body.length}`)
      res.setHeader('content-length', String(range.end - range.start + 1))
      return ex.send(206, capture.body.subarray(range.start, range.end + 1))
    }
  }
  return ex.send(capture.status, capture.body)
}

/** The failure of the run a request waited on: its response replayed when there is one, else the error for the app's error handling. */
export function sendFailure(ex: Exchange, error: unknown, header: string | undefined): Promise<void> | void {
  const replay: Replay | undefined = error instanceof HandlerFailedError ? error.response : undefined
  if (replay === undefined) throw error
  const { res } = ex
  for (const name of Object.keys(replay.headers)) res.setHeader(name, replay.headers[name]!)
  res.setHeader('content-length', String(replay.body.length))
  if (header !== undefined) res.setHeader(header, 'ERROR')
  return ex.send(replay.status, replay.body)
}

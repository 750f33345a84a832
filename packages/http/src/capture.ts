import { createHash, randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { varyNames } from './rules.js'
import { varyValues } from './keys.js'

/**
 * A response as herd stores it. Plain data and a Buffer, so herd's default
 * codec round-trips it through any Store. Headers are lower-case, as the
 * handler set them, minus hop-by-hop headers, `Content-Length` (recomputed from
 * the body) and `Age` (recomputed on every serve).
 */
export interface CapturedResponse {
  kind: 'response'
  status: number
  headers: Record<string, string | string[]>
  body: Buffer
  /** Epoch ms when the handler produced it. */
  at: number
  /** Epoch ms until which it is fresh by its ttl after `max-age` / `s-maxage` (herd's entry, jittered, may end sooner: herd decides HIT or STALE). */
  freshUntil: number
  /** `Age` the handler itself sent (a proxied response), in seconds. */
  age: number
  etag?: string
  /** `Last-Modified` in epoch ms. */
  lastModified?: number
  /** Request headers this response varies on, and the values it was produced for. */
  vary: string[]
  varyValues: string
  /** Route entries: variants are keyed under it, so a new generation orphans them all. */
  generation: string
  /** Variant entries: `at` of the route entry they were produced under. */
  base?: number
}

/** Hit-for-pass: this key's responses are not shareable right now; requests run their own handler. */
export interface PassMarker {
  kind: 'pass'
  at: number
  reason: string
  /** Not remembered (ttl 0): the run was cut short, so the requests that waited on it ask again. */
  retry?: true
}

export type CacheValue = CapturedResponse | PassMarker

export function isCaptured(value: unknown): value is CapturedResponse {
  return value !== null && typeof value === 'object' && (value as CapturedResponse).kind === 'response'
}

export function isPass(value: unknown): value is PassMarker {
  return value !== null && typeof value === 'object' && (value as PassMarker).kind === 'pass'
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Headers a stored response never keeps (besides the cache-status header, removed by name). */
function dropped(name: string, connectionListed: readonly string[]): boolean {
  return HOP_BY_HOP.has(name) || name === 'content-length' || connectionListed.includes(name)
}

function sameValue(a: OutgoingHttpHeaders[string], b: OutgoingHttpHeaders[string]): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  return String(a) === String(b)
}

/** A copy of the headers set so far: what middleware before herdCache set, to tell apart from what the handler set. */
export function snapshotHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return { ...headers }
}

/**
 * The headers to store: those set or changed after `before` was taken (so a
 * request id or CORS header set by middleware in front of herdCache is set
 * anew per request, never replayed from the cache), minus hop-by-hop ones.
 */
export function storedHeaders(
  before: OutgoingHttpHeaders,
  after: OutgoingHttpHeaders,
  cacheHeader: string | undefined,
): Record<string, string | string[]> {
  const connection = varyNames(after.connection)
  const out: Record<string, string | string[]> = {}
  for (const name in after) {
    const value = after[name]
    if (value === undefined || name === cacheHeader || dropped(name, connection)) continue
    if (sameValue(before[name], value)) continue
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}

/** A weak validator for a body, as Express's etag does: length and SHA-1. */
export function weakEtag(body: Buffer): string {
  const hash = createHash('sha1').update(body).digest('base64').slice(0, 27)
  return `W/"${body.length.toString(16)}-${hash}"`
}

export function newGeneration(): string {
  return randomBytes(6).toString('base64url')
}

export interface CaptureInput {
  status: number
  headers: Record<string, string | string[]>
  body: Buffer
  /** Request headers of the run, for the Vary values. */
  requestHeaders: IncomingHttpHeaders
  /** Always varied on (Host plus the configured `vary`). */
  implicitVary: readonly string[]
  ttl: number
  addEtag: boolean
  generation: string
  base: number | undefined
  now: number
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export function buildCapture(input: CaptureInput): CapturedResponse {
  const { headers, body } = input
  const vary = [...input.implicitVary]
  for (const name of varyNames(headers.vary)) if (!vary.includes(name)) vary.push(name)
  // An encoded body must never reach a client that didn't ask for that encoding,
  // whether or not the compressor said `Vary: Accept-Encoding`.
  if (headers['content-encoding'] !== undefined && !vary.includes('accept-encoding')) vary.push('accept-encoding')
  let etag = first(headers.etag)
  if (etag === undefined && input.addEtag && input.status >= 200 && input.status < 300) {
    etag = weakEtag(body)
    headers.etag = etag
  }
  const age = Number(first(headers.age))
  delete headers.age
  const lastModifiedHeader = first(headers['last-modified'])
  const lastModified = lastModifiedHeader === undefined ? Number.NaN : Date.parse(lastModifiedHeader)
  const capture: CapturedResponse = {
    kind: 'response',
    status: input.status,
    headers,
    body,
    at: input.now,
    freshUntil: input.now + input.ttl,
    age: Number.isFinite(age) && age > 0 ? Math.floor(age) : 0,
    vary,
    varyValues: varyValues(input.requestHeaders, vary),
    generation: input.generation,
  }
  if (etag !== undefined) capture.etag = etag
  if (!Number.isNaN(lastModified)) capture.lastModified = lastModified
  if (input.base !== undefined) capture.base = input.base
  return capture
}

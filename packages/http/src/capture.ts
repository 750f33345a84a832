import { createHash, randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { varyNames, type Revalidate } from './rules.js'
import { varyValues } from './keys.js'

export type StoredHeaders = Record<string, string | string[]>

/**
 * A response as herd stores it. Plain data and a Buffer, so herd's default
 * codec round-trips it through any Store. Headers are lower-case, as the
 * handler set them, minus hop-by-hop headers, `Content-Length` (recomputed from
 * the body) and `Age` (recomputed on every serve).
 */
export interface CapturedResponse {
  kind: 'response'
  status: number
  headers: StoredHeaders
  body: Buffer
  /** Epoch ms when the handler produced it (or last revalidated it with a 304). */
  at: number
  /** Seconds old it already was when herd received it (`Age`, `Date`), added to every `Age` herd sends. */
  age: number
  /** When it may be reused without asking the handler: see Revalidate. */
  revalidate: Revalidate
  etag?: string
  /** Request headers this response varies on, and the values it was produced for. */
  vary: string[]
  varyValues: string
  /** Route entries: variants are keyed under it, so a new generation orphans them all. */
  generation: string
  /** Variant entries: `at` of the route entry they were produced under. */
  base?: number
}

/** Hit-for-pass: this key's last response was not shareable; requests run their own handler, and a shareable answer replaces the marker. */
export interface PassMarker {
  kind: 'pass'
  at: number
  reason: string
  /** Not remembered (ttl 0): the run was cut short, so the requests that waited on it ask again. */
  retry?: true
}

/** A response replayed to the requests that waited on a failed run; never stored. */
export interface Replay {
  status: number
  headers: StoredHeaders
  body: Buffer
}

/**
 * The failed revalidation of a must-revalidate / no-cache entry, handed to the
 * requests that waited on it (ttl 0: never stored). It is a value, not an
 * error, because herd would serve the stale entry for an error, and these
 * entries must never be served stale.
 */
export interface FailedRun {
  kind: 'failed'
  at: number
}

export type CacheValue = CapturedResponse | PassMarker | FailedRun

const failures = new WeakMap<FailedRun, unknown>()

/** A FailedRun carrying `error` (in this process: the error is not part of the value). */
export function failedRun(error: unknown): FailedRun {
  const run: FailedRun = { kind: 'failed', at: Date.now() }
  failures.set(run, error)
  return run
}

export function isFailed(value: unknown): value is FailedRun {
  return value !== null && typeof value === 'object' && (value as FailedRun).kind === 'failed'
}

export function failureOf(run: FailedRun): unknown {
  return failures.get(run) ?? new Error('herdCache: the revalidation failed')
}

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
export function storedHeaders(before: OutgoingHttpHeaders, after: OutgoingHttpHeaders, cacheHeader: string | undefined): StoredHeaders {
  const connection = varyNames(after.connection)
  const out: StoredHeaders = {}
  for (const name in after) {
    const value = after[name]
    if (value === undefined || name === cacheHeader || dropped(name, connection)) continue
    if (sameValue(before[name], value)) continue
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}

/** A weak validator for a body, as Express's etag does: length and SHA-1 (so Express's res.send answers herd's revalidations with 304). */
export function weakEtag(body: Buffer): string {
  const hash = createHash('sha1').update(body).digest('base64').slice(0, 27)
  return `W/"${body.length.toString(16)}-${hash}"`
}

export function newGeneration(): string {
  return randomBytes(6).toString('base64url')
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Every name the final response varies on: herd's own (Host and the `vary` option), the response's `Vary` as it left, and Accept-Encoding for an encoded body. */
export function varyList(implicit: readonly string[], stored: StoredHeaders, final: OutgoingHttpHeaders): string[] {
  const vary = [...implicit]
  for (const name of varyNames(final.vary)) if (!vary.includes(name)) vary.push(name)
  for (const name of varyNames(stored.vary)) if (!vary.includes(name)) vary.push(name)
  // An encoded body must never reach a client that didn't ask for that encoding, whether or not the compressor said so.
  if (stored['content-encoding'] !== undefined && !vary.includes('accept-encoding')) vary.push('accept-encoding')
  return vary
}

export interface CaptureInput {
  status: number
  /** What herdCache stores (storedHeaders). */
  headers: StoredHeaders
  /** The headers as the response left, for the Vary names. */
  final: OutgoingHttpHeaders
  body: Buffer
  /** Request headers of the run, for the Vary values. */
  requestHeaders: IncomingHttpHeaders
  /** Always varied on (Host plus the configured `vary`). */
  implicitVary: readonly string[]
  revalidate: Revalidate
  /** ms old on arrival. */
  age: number
  addEtag: boolean
  generation: string
  base: number | undefined
  now: number
}

export function buildCapture(input: CaptureInput): CapturedResponse {
  const { headers, body } = input
  const vary = varyList(input.implicitVary, headers, input.final)
  let etag = first(headers.etag)
  if (etag === undefined && input.addEtag && input.status >= 200 && input.status < 300) {
    etag = weakEtag(body)
    headers.etag = etag
  }
  delete headers.age
  const capture: CapturedResponse = {
    kind: 'response',
    status: input.status,
    headers,
    body,
    at: input.now,
    age: Math.floor(input.age / 1000),
    revalidate: input.revalidate,
    vary,
    varyValues: varyValues(input.requestHeaders, vary),
    generation: input.generation,
  }
  if (etag !== undefined) capture.etag = etag
  if (input.base !== undefined) capture.base = input.base
  return capture
}

/** Fields a 304 never updates (RFC 9111 §3.2): the stored body depends on them. */
const NOT_UPDATED = new Set(['content-length', 'content-encoding', 'content-range', 'content-type', 'transfer-encoding'])

/** The stored headers updated with a 304's (RFC 9111 §4.3.4): each field the 304 sends replaces the stored one; the body stays as it is. */
export function mergeNotModified(stored: StoredHeaders, notModified: StoredHeaders): StoredHeaders {
  const merged: StoredHeaders = { ...stored }
  for (const name of Object.keys(notModified)) if (!NOT_UPDATED.has(name)) merged[name] = notModified[name]!
  return merged
}

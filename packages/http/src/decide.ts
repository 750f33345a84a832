import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { LoadedEntryOptions } from '@herd/core'
import { buildCapture, mergeNotModified, newGeneration, storedHeaders, type CapturedResponse, type PassMarker, type Replay } from './capture.js'
import { HandlerFailedError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { RunOutcome } from './response-capture.js'
import { responseVerdict } from './rules.js'

/** What a finished run comes to: an entry to store, a hit-for-pass marker, or a failure. */
export type Decision =
  | { kind: 'store'; value: CapturedResponse; entry: LoadedEntryOptions; tags: readonly string[] }
  | { kind: 'pass'; value: PassMarker; entry: LoadedEntryOptions }
  | { kind: 'failed'; error: unknown }

/** A marker is never served stale: once passTtl is over, the next request is a plain miss again. */
function pass(reason: string, now: number, passTtl: number): Decision {
  return { kind: 'pass', value: { kind: 'pass', at: now, reason }, entry: { ttl: passTtl, staleWhileRevalidate: 0, staleIfError: 0 } }
}

function failed(status: number, replay: Replay | undefined, message?: string): Decision {
  return { kind: 'failed', error: new HandlerFailedError(status, replay, message) }
}

/**
 * Decides what a run produced, on the headers as they left (late headers
 * from middleware in front count). A 304 to a revalidation (`stale` given)
 * freshens the stored response with the 304's headers and keeps its body.
 */
export function decide(
  o: ResolvedOptions,
  outcome: RunOutcome & { before?: OutgoingHttpHeaders; tags?: readonly string[] },
  req: IncomingMessage,
  parent: CapturedResponse | undefined,
  perUser: boolean,
  stale: CapturedResponse | undefined,
): Decision {
  const now = Date.now()
  if (outcome.kind === 'error') return { kind: 'failed', error: outcome.error }
  // Nothing complete to store: the requests that waited ask again, nothing is remembered.
  if (outcome.kind === 'aborted') return { kind: 'pass', value: { kind: 'pass', at: now, reason: 'client disconnected', retry: true }, entry: { ttl: 0 } }
  const layer = storedHeaders(outcome.before ?? {}, outcome.headers, o.cacheHeader)
  const leaving = storedHeaders({}, outcome.final, o.cacheHeader)
  const revalidated = stale !== undefined && outcome.status === 304 && outcome.finalStatus === 304
  const status = revalidated ? stale.status : outcome.status
  const headers = revalidated ? mergeNotModified(stale.headers, layer) : layer
  const final = revalidated ? mergeNotModified(stale.headers, leaving) : outcome.final
  const body = revalidated ? stale.body : outcome.body
  const replay = body === undefined ? undefined : { status: outcome.finalStatus, headers: layer, body }
  if (!revalidated && outcome.finalStatus !== outcome.status) {
    // Middleware in front answered something else than what reached herdCache (an error page, a redirect).
    return outcome.finalStatus >= 500 ? failed(outcome.finalStatus, replay) : pass('status changed in front of herdCache', now, o.passTtl)
  }
  const verdict = responseVerdict({ status, headers: final, options: o, perUser, now })
  if (verdict.kind === 'fail') return failed(status, replay)
  const declared = outcome.headers['content-length']
  if (body !== undefined && !revalidated && declared !== undefined && status !== 204 && status !== 304 && Number(declared) !== body.length) {
    return failed(status, undefined, `herdCache: the handler sent ${body.length} bytes of the ${declared} its Content-Length announced`)
  }
  if (verdict.kind === 'pass') return pass(verdict.reason, now, o.passTtl)
  if (body === undefined) return pass('body larger than maxBodySize', now, o.passTtl)
  const value = buildCapture({
    status,
    headers,
    final,
    body,
    requestHeaders: req.headers,
    implicitVary: o.vary,
    revalidate: verdict.revalidate,
    age: verdict.age,
    addEtag: o.etag,
    // Variants live under their route entry's generation; a route entry keeps its generation across refreshes.
    generation: parent?.generation ?? stale?.generation ?? newGeneration(),
    base: parent?.at,
    now,
  })
  // must-revalidate / no-cache: no stale windows, but herd keeps the entry past its ttl (as a stale-if-error
  // fallback that herdCache never serves) so the next run can revalidate it instead of fetching the body again.
  const entry: LoadedEntryOptions =
    verdict.revalidate === 'stale-ok'
      ? { ttl: verdict.ttl, staleWhileRevalidate: verdict.staleWhileRevalidate, staleIfError: verdict.staleIfError }
      : { ttl: Math.max(verdict.ttl, 1), staleWhileRevalidate: 0, staleIfError: Math.max(o.ttl, o.staleWhileRevalidate, o.staleIfError) }
  return { kind: 'store', value, entry, tags: outcome.tags ?? [] }
}

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { HerdArgumentError, type Duration, type FetchOptions, type Herd, type LoadedEntryOptions, type LoaderContext } from '@herd/core'
import {
  buildCapture,
  isCaptured,
  isPass,
  newGeneration,
  snapshotHeaders,
  storedHeaders,
  type CacheValue,
  type CapturedResponse,
  type PassMarker,
} from './capture.js'
import { isNotModified } from './conditional.js'
import { defaultHerd } from './default-herd.js'
import { detachedExchange, markOf, markSeen, stripConditionalHeaders, type DetachedRecord } from './detached.js'
import { normalizeUrl, routeKey, variantKey, varyValues } from './keys.js'
import { resolveOptions, type HttpCacheOptions, type ResolvedOptions } from './options.js'
import type { RunOutcome } from './response-capture.js'
import { requestHasCredentials, responseVerdict } from './rules.js'
import { ageOf, prepare } from './serve.js'

export type CacheStatus = 'HIT' | 'STALE' | 'MISS' | 'BYPASS'

/** A run of the rest of the app for one request, captured. */
export interface Run {
  /** Settles when the middleware may return (Koa: once downstream returned and the body is set up). */
  handled: Promise<void> | undefined
  outcome: Promise<RunOutcome>
}

/**
 * One request as the framework binding presents it to the engine. The
 * bindings are thin: how to continue the chain, how to capture, how to send.
 */
export interface Exchange<Source = unknown> {
  /** What the user's `key` function gets: Express's `req`, Koa's `ctx`. */
  readonly source: Source
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The URL as received, before any mount point or rewrite. */
  readonly url: string
  /** Runs the rest of the app for this request, untouched. */
  pass(): Promise<void> | void
  /** Runs the rest of the app, teeing the response to the client while recording it. Calls `onHeaders` once the status and headers are final. */
  capture(limit: number, onHeaders: (status: number, headers: OutgoingHttpHeaders) => void): Run
  /** Sends a stored response; its headers are already set on `res`. `body` is undefined for a 304. */
  send(status: number, body: Buffer | undefined): Promise<void> | void
  /** Dispatches a synthetic request through the whole app (for background refreshes). */
  redispatch(req: IncomingMessage, res: ServerResponse): void
}

interface Record extends DetachedRecord {
  perUser: boolean
  settle(run: Run): void
}

/** A 5xx answer: the handler run failed. Never stored; staleIfError may stand in. */
export class HandlerFailedError extends Error {
  constructor(readonly status: number) {
    super(`herdCache: the handler answered ${status}`)
    this.name = 'HandlerFailedError'
  }
}

const REAL = Symbol('real run')
class Failed {
  constructor(readonly error: unknown) {}
}

/** Per-request bookkeeping: which run (if any) this request's handler is in. */
class RequestState {
  real: Run | undefined
  /** Served or passed: a loader called from now on runs detached. */
  finished = false
  loaded: CacheValue | undefined
  /** The pending fetch has an answer: a loader called now must not take over the live response. */
  settled = false
  /** herd answered the last fetch from a stale entry (fetchEntry's status). */
  servedStale = false
  wake: (value: unknown) => void = () => {}
}

interface Planned {
  route: string
  perUser: boolean
}

export interface InvalidateOptions {
  /** For per-user entries: the `user` your key function returned. */
  user?: string
}

/** What a herdCache middleware carries besides being a middleware. */
export interface CacheControls {
  /** Drops every stored response of a URL path (e.g. '/products/42?lang=en'), or of a key your `key` function returns, in every process. */
  delete(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** Marks them stale: the next request gets the old response while the handler refreshes it. */
  expire(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** The herd key for a URL path or key, to use with the herd directly. */
  keyFor(keyOrUrl: string, options?: InvalidateOptions): string
  /** The herd this middleware stores in. */
  readonly herd: Herd
}

/** Puts `cache`'s controls on a framework middleware function. */
export function withControls<M extends (...args: never[]) => unknown>(middleware: M, cache: HttpCache<never>): M & CacheControls {
  const m = middleware as M & { -readonly [K in keyof CacheControls]: CacheControls[K] }
  m.delete = (keyOrUrl, options) => cache.delete(keyOrUrl, options)
  m.expire = (keyOrUrl, options) => cache.expire(keyOrUrl, options)
  m.keyFor = (keyOrUrl, options) => cache.keyFor(keyOrUrl, options)
  Object.defineProperty(m, 'herd', { get: () => cache.herd, enumerable: true })
  return m
}

/**
 * The framework-agnostic middleware: plans the key, coalesces through
 * `herd.fetchEntry`, runs or detaches the handler as the loader, decides
 * shareability and serves. @herd/express and @herd/koa only adapt it.
 */
export class HttpCache<Source = unknown> {
  readonly options: ResolvedOptions
  private herdInstance: Herd | undefined
  private readonly fetchOptions: FetchOptions
  private readonly expiring = new Set<string>()

  constructor(input: Duration | HttpCacheOptions<Source>) {
    this.options = resolveOptions(input as Duration | HttpCacheOptions<never>)
    this.herdInstance = this.options.herd
    const o = this.options
    const fetchOptions: FetchOptions = { ttl: o.ttl, staleWhileRevalidate: o.staleWhileRevalidate, staleIfError: o.staleIfError }
    if (o.hardTimeout !== undefined) fetchOptions.hardTimeout = o.hardTimeout
    // Frozen: herd resolves a frozen options object once, not on every request.
    this.fetchOptions = Object.freeze(fetchOptions)
  }

  get herd(): Herd {
    return (this.herdInstance ??= defaultHerd())
  }

  /** The herd key of a URL (or of what your `key` function returns). */
  keyFor(keyOrUrl: string, options: InvalidateOptions = {}): string {
    if (typeof keyOrUrl !== 'string') throw new HerdArgumentError(`herdCache: expected a URL path or key string; got ${typeof keyOrUrl}`)
    let key = keyOrUrl
    if (this.options.key === undefined) {
      if (/^https?:\/\//i.test(key)) {
        const url = new URL(key)
        key = url.pathname + url.search
      }
      key = normalizeUrl(key)
    }
    return routeKey(key, options.user)
  }

  /** Drops every stored response of the URL (all its Vary variants), in every process. */
  delete(keyOrUrl: string, options?: InvalidateOptions): Promise<void> {
    return this.herd.delete(this.keyFor(keyOrUrl, options))
  }

  /** Marks the URL's responses stale: the next request is served the old one while the handler refreshes it. */
  expire(keyOrUrl: string, options?: InvalidateOptions): Promise<void> {
    return this.herd.expire(this.keyFor(keyOrUrl, options))
  }

  handle(ex: Exchange<Source>): Promise<void> | void {
    const req = ex.req
    const mark = markOf(req)
    if (mark !== undefined) {
      // A second herdCache on the same request (app-wide and per route) steps aside: the first one decides.
      if (mark === true) return ex.pass()
      // A refresh copy: the herdCache that sent it captures; any other one steps aside.
      const record = mark as Record
      if (record.owner !== this || record.claimed) return ex.pass()
      record.claimed = true
      const run = this.startCapture(ex, record.perUser)
      record.settle(run)
      return run.handled
    }
    markSeen(req)
    const plan = this.plan(ex)
    if (plan === undefined) return this.bypass(ex, undefined)
    return this.lookup(ex, plan)
  }

  private plan(ex: Exchange<Source>): Planned | undefined {
    const req = ex.req
    if (req.method === undefined || !this.options.methods.has(req.method)) return undefined
    const url = normalizeUrl(ex.url)
    let key = url
    let user: string | undefined
    if (this.options.key !== undefined) {
      const result = (this.options.key as (source: Source, url: string) => unknown)(ex.source, url)
      if (!result) return undefined
      if (typeof result === 'string') key = result
      else if (
        typeof result === 'object' &&
        typeof (result as { key: unknown }).key === 'string' &&
        typeof (result as { user: unknown }).user === 'string'
      ) {
        key = (result as { key: string }).key
        user = (result as { user: string }).user
      } else {
        throw new HerdArgumentError('herdCache: key() must return a string, { key, user } with string values, or a falsy value to skip the cache')
      }
    }
    if (user === undefined && requestHasCredentials(req.headers)) return undefined
    return { route: routeKey(key, user), perUser: user !== undefined }
  }

  private async lookup(ex: Exchange<Source>, plan: Planned): Promise<void> {
    const state = new RequestState()
    let value = await this.fetch(ex, state, plan.route, undefined, plan.perUser)
    // The leader's client left before its response was complete: nothing was stored, so ask again (one of us leads now).
    if (isPass(value) && value.retry === true) value = await this.fetch(ex, state, plan.route, undefined, plan.perUser)
    if (value === REAL) return state.real!.handled
    if (!isCaptured(value)) return this.bypass(ex, state)
    const headers = ex.req.headers
    let status = this.statusOf(state, value)
    const values = varyValues(headers, value.vary)
    if (values !== value.varyValues) {
      // Another variant (Host, Accept-Encoding, Accept-Language…) than the one the route entry holds.
      const parent = value
      const key = variantKey(plan.route, parent.generation, values)
      value = await this.fetch(ex, state, key, parent, plan.perUser)
      if (isPass(value) && value.retry === true) value = await this.fetch(ex, state, key, parent, plan.perUser)
      if (value === REAL) return state.real!.handled
      if (!isCaptured(value) || varyValues(headers, value.vary) !== value.varyValues) return this.bypass(ex, state)
      status = this.statusOf(state, value)
      if (value.base !== undefined && value.base < parent.at) {
        // The route entry was refreshed since this variant was made: serve it, and have the next request refresh it.
        status = 'STALE'
        this.expireOnce(key)
      }
    }
    return this.serve(ex, state, value, status)
  }

  private statusOf(state: RequestState, value: CapturedResponse): CacheStatus {
    if (value === state.loaded) return 'MISS'
    return state.servedStale ? 'STALE' : 'HIT'
  }

  private fetch(ex: Exchange<Source>, state: RequestState, key: string, parent: CapturedResponse | undefined, perUser: boolean): Promise<unknown> {
    return new Promise((resolve) => {
      state.settled = false
      const settle = (value: unknown, stale = false): void => {
        if (state.settled) return
        state.settled = true
        state.servedStale = stale
        resolve(value)
      }
      state.wake = settle
      this.herd
        .fetchEntry<CacheValue>(key, (ctx) => this.load(ex, state, ctx, parent, perUser), this.fetchOptions)
        .then(
          (answer) => settle(answer.value, answer.status === 'stale'),
          (error: unknown) => settle(new Failed(error)),
        )
    })
  }

  /**
   * The loader herd calls, once per key across the fleet. On a cold miss it
   * runs this request's own handler, teeing the response to the client; when
   * a stale entry exists (herd may be refreshing in the background while this
   * request is served the stale one) or the request is HEAD, it runs a
   * detached copy of the request instead.
   */
  private load(
    ex: Exchange<Source>,
    state: RequestState,
    ctx: LoaderContext<CacheValue>,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): Promise<CacheValue> {
    let run: Run
    if (state.real !== undefined) {
      run = state.real
    } else if (state.settled || state.finished || isCaptured(ctx.stale) || ex.req.method !== 'GET') {
      run = this.detach(ex, ctx, perUser)
    } else {
      run = state.real = this.startCapture(ex, perUser)
      state.wake(REAL)
    }
    return run.outcome.then((outcome) => {
      const value = this.toValue(outcome, ctx, ex.req, parent, perUser)
      state.loaded = value
      return value
    })
  }

  private startCapture(ex: Exchange<Source>, perUser: boolean): Run {
    const { res } = ex
    const before = snapshotHeaders(res.getHeaders())
    stripConditionalHeaders(ex.req.headers)
    const header = this.options.cacheHeader
    if (header !== undefined) res.setHeader(header, 'MISS')
    const run = ex.capture(this.options.maxBodySize, (status, headers) => {
      if (header !== undefined && responseVerdict(status, headers, this.options, perUser, Date.now()).kind !== 'store') {
        res.setHeader(header, 'BYPASS')
      }
    })
    return {
      handled: run.handled,
      outcome: run.outcome.then((o) => (o.kind === 'response' ? { ...o, before } : o)),
    }
  }

  private detach(ex: Exchange<Source>, ctx: LoaderContext<CacheValue>, perUser: boolean): Run {
    let settle!: (outcome: RunOutcome) => void
    const outcome = new Promise<RunOutcome>((resolve) => (settle = resolve))
    const record: Record = { owner: this, claimed: false, perUser, settle: (run) => void run.outcome.then(settle) }
    const { req, res } = detachedExchange(ex.req, ex.url, record)
    res.once('finish', () => {
      if (!record.claimed) {
        settle({
          kind: 'error',
          error: new Error(`herdCache: the refresh of ${ex.url} was answered before it reached herdCache (status ${res.statusCode})`),
        })
      }
    })
    const signal = ctx.signal
    const onAbort = (): void => {
      settle({ kind: 'error', error: signal.reason })
      req.destroy()
    }
    if (signal.aborted) onAbort()
    else {
      signal.addEventListener('abort', onAbort, { once: true })
      void outcome.then(() => signal.removeEventListener('abort', onAbort))
    }
    try {
      ex.redispatch(req, res)
    } catch (error) {
      settle({ kind: 'error', error })
    }
    return { handled: undefined, outcome }
  }

  private toValue(
    outcome: RunOutcome,
    ctx: LoaderContext<CacheValue>,
    req: IncomingMessage,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): CacheValue {
    if (outcome.kind === 'error') throw outcome.error
    const now = Date.now()
    if (outcome.kind === 'aborted') {
      // Nothing complete to store: waiters run their own handler, nothing is remembered.
      ctx.setTtl(0)
      return { kind: 'pass', at: now, reason: 'client disconnected', retry: true }
    }
    const o = this.options
    const verdict = responseVerdict(outcome.status, outcome.headers, o, perUser, now)
    if (verdict.kind === 'fail') throw new HandlerFailedError(outcome.status)
    if (verdict.kind === 'pass' || outcome.body === undefined) {
      // A marker is never served stale: once passTtl is over, the next request is a plain miss again.
      ctx.setOptions({ ttl: o.passTtl, ...NO_STALE })
      return pass(verdict.kind === 'pass' ? verdict.reason : 'body larger than maxBodySize', now)
    }
    // must-revalidate: never served stale, not even for a failed run; once the ttl is over, the next request waits for one run like a miss.
    ctx.setOptions(verdict.mustRevalidate ? { ttl: verdict.ttl, ...NO_STALE } : { ttl: verdict.ttl })
    const stale = ctx.stale
    const before = (outcome as { before?: OutgoingHttpHeaders }).before ?? {}
    return buildCapture({
      status: outcome.status,
      headers: storedHeaders(before, outcome.headers, o.cacheHeader),
      body: outcome.body,
      requestHeaders: req.headers,
      implicitVary: o.vary,
      ttl: verdict.ttl,
      addEtag: o.etag,
      // Variants live under their route entry's generation; a route entry keeps its generation across refreshes.
      generation: parent?.generation ?? (isCaptured(stale) ? stale.generation : newGeneration()),
      base: parent?.at,
      now,
    })
  }

  private serve(ex: Exchange<Source>, state: RequestState, capture: CapturedResponse, status: CacheStatus): Promise<void> | void {
    const now = Date.now()
    state.finished = true
    const p = prepare(capture)
    const { res, req } = ex
    const header = this.options.cacheHeader
    const age = ageOf(capture, now)
    if (
      p.conditional &&
      (req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined) &&
      isNotModified(req.headers, capture.etag, capture.lastModified)
    ) {
      for (let i = 0; i < p.notModifiedNames.length; i++) res.setHeader(p.notModifiedNames[i]!, p.notModifiedValues[i]!)
      res.setHeader('age', age)
      if (header !== undefined) res.setHeader(header, status)
      return ex.send(304, undefined)
    }
    for (let i = 0; i < p.names.length; i++) res.setHeader(p.names[i]!, p.values[i]!)
    res.setHeader('age', age)
    if (header !== undefined) res.setHeader(header, status)
    return ex.send(capture.status, capture.body)
  }

  private bypass(ex: Exchange<Source>, state: RequestState | undefined): Promise<void> | void {
    if (state !== undefined) state.finished = true
    const header = this.options.cacheHeader
    if (header !== undefined) ex.res.setHeader(header, 'BYPASS')
    return ex.pass()
  }

  private expireOnce(key: string): void {
    if (this.expiring.has(key)) return
    this.expiring.add(key)
    this.herd.expire(key).then(
      () => this.expiring.delete(key),
      () => this.expiring.delete(key),
    )
  }
}

/** The entry of a hit-for-pass marker or a must-revalidate response: no stale-while-revalidate, no stale-if-error. */
const NO_STALE: LoadedEntryOptions = { staleWhileRevalidate: 0, staleIfError: 0 }

function pass(reason: string, at: number): PassMarker {
  return { kind: 'pass', at, reason }
}

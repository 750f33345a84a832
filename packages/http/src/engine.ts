import type { OutgoingHttpHeaders } from 'node:http'
import {
  createHerd,
  HerdArgumentError,
  MAX_TAGS_PER_ENTRY,
  type Duration,
  type FetchOptions,
  type FetchStatus,
  type Herd,
  type LoaderContext,
  type SetOptions,
} from '@herd/core'
import { failedRun, failureOf, isCaptured, isFailed, isPass, snapshotHeaders, type CacheValue, type CapturedResponse } from './capture.js'
import type { InvalidateOptions } from './controls.js'
import { decide, type Decision } from './decide.js'
import { detachedExchange, markOf, markSeen, stripConditionalHeaders, type DetachedRecord } from './detached.js'
import type { CacheStatus, Exchange, Run } from './exchange.js'
import { invalidationTargets } from './invalidation.js'
import { normalizeUrl, routeKey, variantKey, varyValues } from './keys.js'
import { resolveOptions, type HttpCacheOptions, type ResolvedOptions } from './options.js'
import { sendFailure, sendStored } from './respond.js'
import type { RunOutcome } from './response-capture.js'
import { isUnsafeMethod, requestHasBody, requestHasCredentials, responseVerdict } from './rules.js'

interface Record extends DetachedRecord {
  perUser: boolean
  settle(run: Run): void
}

/**
 * Where one request is, as one value. `asking`: a fetch is pending, and a
 * loader herd calls now may run this request's own handler (it wakes the
 * request with `lead`). `leading`: it does. `answered`: herd answered, so a
 * loader called from now on (a background refresh) runs a detached copy.
 */
type Phase = { kind: 'asking'; wake: (answer: Answer) => void } | { kind: 'leading'; run: Run } | { kind: 'answered' }

interface RequestState {
  phase: Phase
}

const ANSWERED: Phase = Object.freeze({ kind: 'answered' })

/** How a fetch came back to one request. */
type Answer =
  | { kind: 'lead'; run: Run }
  | { kind: 'value'; value: CacheValue | undefined; status: FetchStatus; own: boolean }
  /** `own`: this request's loader ran the failed run (it was the leader, so it does not retry). */
  | { kind: 'error'; error: unknown; own: boolean }

/** What a key resolved to for one request, after at most one retry. */
type Resolved =
  | { kind: 'led'; handled: Promise<void> | undefined }
  | { kind: 'hit'; capture: CapturedResponse; status: CacheStatus }
  /** Run its own handler; `waited`: the request waited on the run that turned out not shareable. */
  | { kind: 'pass'; waited: boolean }
  | { kind: 'failed'; error: unknown }

interface Planned {
  route: string
  perUser: boolean
}

const SCHEMES = ['http', 'https'] as const

/**
 * The framework-agnostic middleware: plans the key, coalesces through
 * `herd.fetchEntry`, runs or detaches the handler as the loader, decides
 * shareability and serves. @herd/express and @herd/koa only adapt it.
 */
export class HttpCache<Source = unknown> {
  readonly options: ResolvedOptions
  private herdInstance: Herd | undefined
  private readonly fetchOptions: FetchOptions
  /** Variant key → the route entry's `at` it was last expired for: an expire fences out loads begun before it, so expiring again while the variant refreshes would keep it stale forever. */
  private readonly expired = new Map<string, number>()
  /**
   * Detached runs in this process, by key. herd's loader and a request that
   * may not be served a stale entry (must-revalidate, no-cache) share one, so
   * a key is revalidated once per process whichever of them asks first.
   */
  private readonly loading = new Map<string, Promise<Decision>>()
  /** Per key, the run one of the requests that waited on an unshareable response makes for the others (passAfterWaiting). */
  private readonly electedPasses = new Map<string, Promise<CapturedResponse | undefined>>()

  constructor(input: Duration | HttpCacheOptions<Source>) {
    this.options = resolveOptions(input as Duration | HttpCacheOptions<never>)
    this.herdInstance = this.options.herd
    const o = this.options
    const fetchOptions: FetchOptions = { ttl: o.ttl, staleWhileRevalidate: o.staleWhileRevalidate, staleIfError: o.staleIfError }
    if (o.hardTimeout !== undefined) fetchOptions.hardTimeout = o.hardTimeout
    // Frozen: herd resolves a frozen options object once, not on every request.
    this.fetchOptions = Object.freeze(fetchOptions)
  }

  /** The herd it stores in: the `herd` option, or one of its own (so two apps in a process never share entries). */
  get herd(): Herd {
    return (this.herdInstance ??= createHerd())
  }

  /** The herd key of a URL (or of what your `key` function returns). */
  keyFor(keyOrUrl: string, options: InvalidateOptions = {}): string {
    return this.keysFor(keyOrUrl, options)[0]!
  }

  private keysFor(keyOrUrl: string, options: InvalidateOptions): string[] {
    if (typeof keyOrUrl !== 'string') throw new HerdArgumentError(`herdCache: expected a URL path or key string; got ${typeof keyOrUrl}`)
    if (options.scheme !== undefined && options.scheme !== 'http' && options.scheme !== 'https') {
      throw new HerdArgumentError(`herdCache: scheme must be 'http' or 'https'; got ${JSON.stringify(options.scheme)}`)
    }
    if (options.user !== undefined && typeof options.user !== 'string')
      throw new HerdArgumentError(`herdCache: user must be a string; got ${typeof options.user}`)
    let key = keyOrUrl
    let schemes: readonly string[] = options.scheme === undefined ? SCHEMES : [options.scheme]
    if (this.options.key === undefined) {
      if (/^https?:\/\//i.test(key)) {
        const url = new URL(key)
        key = url.pathname + url.search
        schemes = [url.protocol.slice(0, -1)]
      }
      key = normalizeUrl(key)
    }
    return schemes.map((scheme) => routeKey(scheme, key, options.user))
  }

  /** Drops every stored response of the URL (all its Vary variants, both schemes unless told), in every process. */
  async delete(keyOrUrl: string, options: InvalidateOptions = {}): Promise<void> {
    await Promise.all(this.keysFor(keyOrUrl, options).map((key) => this.herd.delete(key)))
  }

  /** Marks the URL's responses stale: the next request is served the old one while the handler refreshes it. */
  async expire(keyOrUrl: string, options: InvalidateOptions = {}): Promise<void> {
    await Promise.all(this.keysFor(keyOrUrl, options).map((key) => this.herd.expire(key)))
  }

  /** Every stored response with one of `tags` turns stale in every process: served once more while one run refreshes it. */
  expireTags(tags: readonly string[]): Promise<void> {
    return this.herd.expireTags(tags)
  }

  /** Every stored response with one of `tags` is gone, in every process. */
  deleteTags(tags: readonly string[]): Promise<void> {
    return this.herd.deleteTags(tags)
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
      const run = this.startCapture(ex, record.perUser, false)
      record.settle(run)
      return run.handled
    }
    markSeen(req)
    if (isUnsafeMethod(req.method)) return this.invalidating(ex)
    const plan = this.plan(ex)
    if (plan === undefined) return this.bypass(ex)
    return this.lookup(ex, plan)
  }

  /** The user's key() for this request: a shared key, a per-user one, or undefined to skip the cache. */
  private userKey(ex: Exchange<Source>, url: string): { key: string; user: string | undefined } | undefined {
    if (this.options.key === undefined) return { key: url, user: undefined }
    const result = (this.options.key as (source: Source, url: string) => unknown)(ex.source, url)
    if (!result) return undefined
    if (typeof result === 'string') return { key: result, user: undefined }
    if (typeof result === 'object' && typeof (result as { key: unknown }).key === 'string' && typeof (result as { user: unknown }).user === 'string') {
      return { key: (result as { key: string }).key, user: (result as { user: string }).user }
    }
    throw new HerdArgumentError('herdCache: key() must return a string, { key, user } with string values, or a falsy value to skip the cache')
  }

  private plan(ex: Exchange<Source>): Planned | undefined {
    const req = ex.req
    if (req.method === undefined || !this.options.methods.has(req.method)) return undefined
    // A GET with a body may be answered from what it sent: never shared.
    if (requestHasBody(req.headers)) return undefined
    if (this.options.key === undefined) {
      // The default key, without key()'s bookkeeping (every request plans one).
      if (requestHasCredentials(req.headers)) return undefined
      return { route: routeKey(ex.scheme, normalizeUrl(ex.url), undefined), perUser: false }
    }
    const planned = this.userKey(ex, normalizeUrl(ex.url))
    if (planned === undefined) return undefined
    if (planned.user === undefined && requestHasCredentials(req.headers)) return undefined
    return { route: routeKey(ex.scheme, planned.key, planned.user), perUser: planned.user !== undefined }
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request (2xx, 3xx) invalidates the
   * stored responses of its URL, and of a same-origin Location and
   * Content-Location, in every process (herd.delete goes through the Bus),
   * before the response ends, so the client's next GET sees the change.
   */
  private invalidating(ex: Exchange<Source>): Promise<void> | void {
    return ex.passThen((status, headers) => {
      if (status < 200 || status >= 400) return undefined
      const url = normalizeUrl(ex.url)
      const planned = this.userKey(ex, url)
      const targets = invalidationTargets(ex, headers, planned, this.options.key === undefined)
      if (targets.length === 0) return undefined
      const deletes = targets.map((t) => this.herd.delete(routeKey(t.scheme, t.key, t.user)).catch(() => undefined))
      return Promise.all(deletes).then(() => undefined)
    })
  }

  /** The common answers (a hit, or this request leads), resolved without resolve()'s retry loop: the hit path stays short. */
  private simple(answer: Answer): Resolved | undefined {
    if (answer.kind === 'lead') return { kind: 'led', handled: answer.run.handled }
    if (answer.kind !== 'value' || !isCaptured(answer.value)) return undefined
    if (answer.status === 'stale' && answer.value.revalidate !== 'stale-ok') return undefined
    return { kind: 'hit', capture: answer.value, status: answer.own ? 'MISS' : answer.status === 'stale' ? 'STALE' : 'HIT' }
  }

  private async lookup(ex: Exchange<Source>, plan: Planned): Promise<void> {
    const state: RequestState = { phase: ANSWERED }
    const first = await this.ask(ex, state, plan.route, undefined, plan.perUser)
    // The hit path: a servable entry of this request's variant is served at once.
    if (first.kind === 'value' && isCaptured(first.value) && (first.status !== 'stale' || first.value.revalidate === 'stale-ok')) {
      const capture = first.value
      if (varyValues(ex.req.headers, capture.vary) === capture.varyValues)
        return this.serve(ex, capture, first.own ? 'MISS' : first.status === 'stale' ? 'STALE' : 'HIT')
    }
    let resolved = this.simple(first) ?? (await this.resolve(ex, state, plan.route, undefined, plan.perUser, first))
    if (resolved.kind === 'hit') {
      const parent = resolved.capture
      const values = varyValues(ex.req.headers, parent.vary)
      if (values !== parent.varyValues) {
        // Another variant (Host, Accept-Encoding, Accept-Language…) than the one the route entry holds.
        const key = variantKey(plan.route, parent.generation, values)
        resolved = await this.resolve(ex, state, key, parent, plan.perUser)
        if (resolved.kind === 'hit') {
          if (varyValues(ex.req.headers, resolved.capture.vary) !== resolved.capture.varyValues) return this.bypass(ex)
          if (resolved.capture.base !== undefined && resolved.capture.base < parent.at) {
            // The route entry was refreshed since this variant was made: serve it, and have the next request refresh it.
            resolved = { ...resolved, status: 'STALE' }
            this.expireOnce(key, parent.at)
          }
        }
        return this.finish(ex, state, resolved, key, parent, plan.perUser)
      }
    }
    return this.finish(ex, state, resolved, plan.route, undefined, plan.perUser)
  }

  private finish(
    ex: Exchange<Source>,
    state: RequestState,
    resolved: Resolved,
    key: string,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): Promise<void> | void {
    switch (resolved.kind) {
      case 'led':
        return resolved.handled
      case 'hit':
        return this.serve(ex, resolved.capture, resolved.status)
      case 'pass':
        return resolved.waited ? this.passAfterWaiting(ex, state, key, parent, perUser) : this.passCapturing(ex, state, key, parent, perUser)
      case 'failed':
        return this.replayFailure(ex, resolved.error)
    }
  }

  /**
   * One key for one request. A failed run (throw, 5xx, timeout, incomplete
   * body) is retried once: the requests that waited on it ask again and elect
   * one new leader among them (herd coalesces the second ask too); if that
   * run fails as well, they all get its failure. So a failing origin sees at
   * most two runs per process per failure, never one per waiting request.
   */
  private async resolve(
    ex: Exchange<Source>,
    state: RequestState,
    key: string,
    parent: CapturedResponse | undefined,
    perUser: boolean,
    first?: Answer,
  ): Promise<Resolved> {
    for (let attempt = 1; ; attempt++) {
      let answer = attempt === 1 && first !== undefined ? first : await this.ask(ex, state, key, parent, perUser)
      if (answer.kind === 'lead') return { kind: 'led', handled: answer.run.handled }
      if (answer.kind === 'value' && answer.status === 'stale' && isCaptured(answer.value) && answer.value.revalidate !== 'stale-ok') {
        // must-revalidate / no-cache: never served stale. Wait for this process's revalidation of it (started here if needed).
        answer = await this.revalidation(ex, key, answer.value, parent, perUser)
      }
      if (answer.kind === 'value' && isFailed(answer.value)) answer = { kind: 'error', error: failureOf(answer.value), own: answer.own }
      if (answer.kind === 'error') {
        if (attempt === 1 && !answer.own) continue
        return { kind: 'failed', error: answer.error }
      }
      if (answer.kind !== 'value') return { kind: 'led', handled: answer.run.handled }
      const value = answer.value
      if (isCaptured(value)) return { kind: 'hit', capture: value, status: answer.own ? 'MISS' : answer.status === 'stale' ? 'STALE' : 'HIT' }
      // The leader's client left before its response was complete: nothing was stored, so ask again (one of us leads now).
      if (isPass(value) && value.retry === true && attempt === 1) continue
      return { kind: 'pass', waited: answer.status === 'miss' && !answer.own }
    }
  }

  private ask(ex: Exchange<Source>, state: RequestState, key: string, parent: CapturedResponse | undefined, perUser: boolean): Promise<Answer> {
    return new Promise((resolve) => {
      let produced: CacheValue | undefined
      let loaded = false
      const wake = (answer: Answer): void => {
        if (state.phase.kind !== 'asking' || state.phase.wake !== wake) return
        state.phase = answer.kind === 'lead' ? { kind: 'leading', run: answer.run } : ANSWERED
        resolve(answer)
      }
      state.phase = { kind: 'asking', wake }
      this.herd
        .fetchEntry<CacheValue>(
          key,
          (ctx) => {
            loaded = true
            return this.load(ex, state, ctx, parent, perUser).then((value) => {
              produced = value
              return value
            })
          },
          this.fetchOptions,
        )
        .then(
          (result) => wake({ kind: 'value', value: result.value, status: result.status, own: result.value !== undefined && result.value === produced }),
          (error: unknown) => wake({ kind: 'error', error, own: loaded }),
        )
    })
  }

  /**
   * The loader herd calls, once per key across the fleet. On a cold miss it
   * runs this request's own handler, teeing the response to the client; when
   * a stored entry exists (a refresh or a revalidation: herd may be serving it
   * stale meanwhile, and the handler may answer 304), when the request is HEAD,
   * or once the request was answered, it runs a detached copy of the request.
   */
  private load(
    ex: Exchange<Source>,
    state: RequestState,
    ctx: LoaderContext<CacheValue>,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): Promise<CacheValue> {
    const stale = isCaptured(ctx.stale) ? ctx.stale : undefined
    const phase = state.phase
    if (phase.kind === 'asking' && stale === undefined && ex.req.method === 'GET') {
      const run = this.startCapture(ex, perUser)
      phase.wake({ kind: 'lead', run })
      return run.outcome.then((outcome) => this.apply(decide(this.options, outcome, ex.req, parent, perUser, undefined), ctx, stale))
    }
    const decision = this.loading.get(ctx.key) ?? this.track(ctx.key, this.detachedDecision(ex, ctx.signal, parent, perUser, stale))
    return decision.then((d) => this.apply(d, ctx, stale))
  }

  /** Runs a detached copy (a revalidation when `stale` is given) and decides what it produced. */
  private detachedDecision(
    ex: Exchange<Source>,
    signal: AbortSignal,
    parent: CapturedResponse | undefined,
    perUser: boolean,
    stale: CapturedResponse | undefined,
  ): Promise<Decision> {
    return this.detach(ex, signal, perUser, stale).outcome.then((outcome) => decide(this.options, outcome, ex.req, parent, perUser, stale))
  }

  private track(key: string, decision: Promise<Decision>): Promise<Decision> {
    this.loading.set(key, decision)
    const forget = (): void => {
      if (this.loading.get(key) === decision) this.loading.delete(key)
    }
    decision.then(forget, forget)
    return decision
  }

  /**
   * herd answered a must-revalidate / no-cache entry as stale (after
   * `expire`, or standing in for a timed-out run): join this process's
   * revalidation of the key, or start one and store what it brings.
   */
  private async revalidation(
    ex: Exchange<Source>,
    key: string,
    stale: CapturedResponse,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): Promise<Answer> {
    let decision = this.loading.get(key)
    if (decision === undefined) {
      const signal = AbortSignal.timeout(this.options.hardTimeout ?? 10_000)
      decision = this.track(key, this.detachedDecision(ex, signal, parent, perUser, stale))
      void decision.then((d) => {
        if (d.kind !== 'failed') this.herd.set(key, d.value, entryOf(d)).catch(() => undefined)
      })
    }
    const d = await decision
    if (d.kind === 'failed') return { kind: 'error', error: d.error, own: false }
    return { kind: 'value', value: d.value, status: 'miss', own: false }
  }

  /** Turns a decision into what the loader returns: the entry's options set on herd, or the error that fails the run. */
  private apply(decision: Decision, ctx: LoaderContext<CacheValue>, stale: CapturedResponse | undefined): CacheValue {
    if (decision.kind !== 'failed') {
      ctx.setOptions(decision.entry)
      if (decision.kind === 'store' && decision.tags.length > 0) ctx.setTags(decision.tags)
      return decision.value
    }
    // An error lets herd serve the stale entry inside staleIfError; a must-revalidate / no-cache one must not be.
    if (stale === undefined || stale.revalidate === 'stale-ok') throw decision.error
    ctx.setTtl(0)
    return failedRun(decision.error)
  }

  /** `live`: the client's own request, whose conditional and Range headers the handler must not see (a refresh copy's are herd's). */
  private startCapture(ex: Exchange<Source>, perUser: boolean, live = true): Run {
    const { res } = ex
    const before = snapshotHeaders(res.getHeaders())
    if (live) stripConditionalHeaders(ex.req.headers)
    const header = this.options.cacheHeader
    if (header !== undefined) res.setHeader(header, 'MISS')
    let tags: readonly string[] = []
    const run = ex.capture(this.options.maxBodySize, (status, headers) => {
      // The handler's Cache-Tag header is herd's, never the client's: taken off as the headers reach herdCache.
      tags = tagsOf(this.options, ex.source, status, headers)
      if (this.options.tagHeader !== undefined) res.removeHeader(this.options.tagHeader)
      if (header !== undefined && responseVerdict({ status, headers, options: this.options, perUser, now: Date.now() }).kind !== 'store') {
        res.setHeader(header, 'BYPASS')
      }
    })
    return {
      handled: run.handled,
      outcome: run.outcome.then((o) => (o.kind === 'response' ? { ...o, before, tags } : o)),
    }
  }

  /**
   * Hit-for-pass, as hit-for-miss: the key's last response was not
   * shareable, so this request runs its own handler at once (side by side with
   * the others), but a response that is shareable replaces the marker. One
   * personalised response never turns the URL into a pass-through for
   * `passTtl`.
   */
  private passCapturing(
    ex: Exchange<Source>,
    state: RequestState,
    key: string,
    parent: CapturedResponse | undefined,
    perUser: boolean,
    onStored?: (capture: CapturedResponse | undefined) => void,
  ): Promise<void> | void {
    state.phase = ANSWERED
    if (ex.req.method !== 'GET') {
      onStored?.(undefined)
      return this.bypass(ex)
    }
    const run = this.startCapture(ex, perUser)
    void run.outcome.then((outcome) => {
      const decision = decide(this.options, outcome, ex.req, parent, perUser, undefined)
      if (decision.kind === 'store') this.herd.set(key, decision.value, entryOf(decision)).catch(() => undefined)
      onStored?.(decision.kind === 'store' ? decision.value : undefined)
    })
    return run.handled
  }

  /**
   * The requests that waited on a run whose response was not shareable (one
   * visitor's Set-Cookie) elect one new leader among them in this process,
   * as after a failure: if its response is shareable they are served it,
   * otherwise each runs its own handler. A burst behind one personalised
   * response costs two runs, not one per request.
   */
  private passAfterWaiting(
    ex: Exchange<Source>,
    state: RequestState,
    key: string,
    parent: CapturedResponse | undefined,
    perUser: boolean,
  ): Promise<void> | void {
    const elected = this.electedPasses.get(key)
    if (elected === undefined) {
      let settle!: (capture: CapturedResponse | undefined) => void
      const stored = new Promise<CapturedResponse | undefined>((resolve) => (settle = resolve))
      this.electedPasses.set(key, stored)
      void stored.then(() => this.electedPasses.delete(key))
      return this.passCapturing(ex, state, key, parent, perUser, settle)
    }
    return elected.then((capture) => {
      if (capture !== undefined && varyValues(ex.req.headers, capture.vary) === capture.varyValues) return this.serve(ex, capture, 'HIT')
      return this.passCapturing(ex, state, key, parent, perUser)
    })
  }

  private detach(ex: Exchange<Source>, signal: AbortSignal, perUser: boolean, stale: CapturedResponse | undefined): Run {
    let settle!: (outcome: RunOutcome) => void
    const outcome = new Promise<RunOutcome>((resolve) => (settle = resolve))
    const record: Record = { owner: this, claimed: false, perUser, settle: (run) => void run.outcome.then(settle) }
    const lastModified = stale?.headers['last-modified']
    const validators = stale === undefined ? undefined : { etag: stale.etag, lastModified: typeof lastModified === 'string' ? lastModified : undefined }
    const { req, res } = detachedExchange(ex.req, ex.url, record, validators)
    res.once('finish', () => {
      if (!record.claimed) {
        settle({
          kind: 'error',
          error: new Error(`herdCache: the refresh of ${ex.url} was answered before it reached herdCache (status ${res.statusCode})`),
        })
      }
    })
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

  private serve(ex: Exchange<Source>, capture: CapturedResponse, status: CacheStatus): Promise<void> | void {
    return sendStored(ex, capture, status, this.options.cacheHeader)
  }

  private replayFailure(ex: Exchange<Source>, error: unknown): Promise<void> | void {
    return sendFailure(ex, error, this.options.cacheHeader)
  }

  private bypass(ex: Exchange<Source>): Promise<void> | void {
    const header = this.options.cacheHeader
    if (header !== undefined) ex.res.setHeader(header, 'BYPASS')
    return ex.pass()
  }

  private expireOnce(key: string, generation: number): void {
    if (this.expired.get(key) === generation) return
    // Bounded: a variant expired long ago at worst gets expired once more.
    if (this.expired.size >= 10_000) this.expired.clear()
    this.expired.set(key, generation)
    this.herd.expire(key).catch(() => this.expired.delete(key))
  }
}

/** The tags a stored response carries: the middleware's own (an array, or from its function) and those the handler named in the tag header, at most MAX_TAGS_PER_ENTRY. */
function tagsOf(o: ResolvedOptions, source: unknown, status: number, headers: OutgoingHttpHeaders): readonly string[] {
  const tags = new Set<string>()
  const configured = typeof o.tags === 'function' ? o.tags(source as never, { status, headers }) : o.tags
  if (configured !== undefined) for (const tag of configured) if (typeof tag === 'string' && tag.length > 0) tags.add(tag)
  const named = o.tagHeader === undefined ? undefined : headers[o.tagHeader]
  if (named !== undefined) {
    for (const part of (Array.isArray(named) ? named.join(',') : String(named)).split(',')) {
      const tag = part.trim()
      if (tag.length > 0) tags.add(tag)
    }
  }
  // More tags than an entry can carry: the first ones count (a handler's header is not worth failing its response over).
  return [...tags].slice(0, MAX_TAGS_PER_ENTRY)
}

/** What herd.set() stores a decided response with: its entry options and its tags. */
function entryOf(decision: Decision & { kind: 'store' | 'pass' }): SetOptions {
  return decision.kind === 'store' && decision.tags.length > 0 ? { ...decision.entry, tags: decision.tags } : decision.entry
}

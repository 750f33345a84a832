export { HttpCache } from './engine.js'
export type { Exchange, Run, CacheStatus } from './exchange.js'
export { withControls, type InvalidateOptions, type CacheControls } from './controls.js'
export { sendStored, sendFailure } from './respond.js'
export { HandlerFailedError } from './errors.js'
export { resolveOptions, parseSize, DEFAULT_STATUSES, type HttpCacheOptions, type ResolvedOptions, type KeyResult } from './options.js'
export { normalizeUrl, routeKey, variantKey, varyValues, KEY_PREFIX } from './keys.js'
export { parseCacheControl, parseDirectives, type CacheControl } from './cache-control.js'
export { initialAge, freshnessLifetime } from './freshness.js'
export {
  responseVerdict,
  requestHasCredentials,
  requestHasBody,
  isUnsafeMethod,
  varyNames,
  type Verdict,
  type VerdictInput,
  type Revalidate,
} from './rules.js'
export {
  buildCapture,
  storedHeaders,
  snapshotHeaders,
  mergeNotModified,
  weakEtag,
  isCaptured,
  isPass,
  type CapturedResponse,
  type PassMarker,
  type CacheValue,
  type Replay,
} from './capture.js'
export { rangeFor, type RangeAnswer } from './range.js'
export { prepare, ageOf, isNotModified, type Prepared } from './serve.js'
export { BodyCollector, teeStream, type StreamOutcome } from './body.js'
export { captureResponse, watchHeaders, type RunOutcome, type OnHeaders, type HeadersWatch } from './response-capture.js'
export { passThenEnd } from './pass-then.js'
export { detachedExchange, isBackgroundRefresh, stripConditionalHeaders } from './detached.js'
export { herdCacheListener, type NodeHandler, type HerdCacheListener } from './node.js'

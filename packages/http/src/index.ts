export {
  HttpCache,
  HandlerFailedError,
  withControls,
  type Exchange,
  type Run,
  type CacheStatus,
  type InvalidateOptions,
  type CacheControls,
} from './engine.js'
export { resolveOptions, parseSize, DEFAULT_STATUSES, type HttpCacheOptions, type ResolvedOptions, type KeyResult } from './options.js'
export { normalizeUrl, routeKey, variantKey, varyValues, KEY_PREFIX } from './keys.js'
export { parseCacheControl, responseVerdict, requestHasCredentials, varyNames, type CacheControl, type Verdict } from './rules.js'
export {
  buildCapture,
  storedHeaders,
  snapshotHeaders,
  weakEtag,
  isCaptured,
  isPass,
  type CapturedResponse,
  type PassMarker,
  type CacheValue,
} from './capture.js'
export { etagMatches, isNotModified } from './conditional.js'
export { prepare, ageOf, type Prepared } from './serve.js'
export { BodyCollector, teeStream, type StreamOutcome } from './body.js'
export { captureResponse, type RunOutcome } from './response-capture.js'
export { detachedExchange, isBackgroundRefresh, stripConditionalHeaders } from './detached.js'
export { defaultHerd } from './default-herd.js'

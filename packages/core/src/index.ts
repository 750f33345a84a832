export { createHerd } from './herd.js'
export type { Herd, WarmOptions, WarmResult, KeepFreshOptions, Batch, BatchOptions } from './herd.js'
export type {
  HerdOptions,
  EntryOptions,
  FetchOptions,
  FetchResult,
  FetchStatus,
  LoadedEntryOptions,
  SetOptions,
  InvalidateOptions,
  Loader,
  LoaderContext,
  BatchLoader,
  BatchLoaderContext,
  FetchManyOptions,
  EntrySetters,
} from './options.js'
export type { Store, StoredEntry } from './contracts/store.js'
export type { Lock, Lease, FusedLock, FusedAcquire, FusedAcquireHint, FusedFilled, FusedRead, FusedWait, FusedWrite } from './contracts/lock.js'
export type { Bus, BusMessage, BusListener, BusSubscribeOptions } from './contracts/bus.js'
export type { Codec } from './contracts/codec.js'
export { defaultCodec } from './codec/default-codec.js'
export { MAX_TAGS_PER_ENTRY } from './options.js'
export { toMs, type Duration } from './duration.js'
export { toBytes, type Size } from './size.js'
export { Lru } from './pipeline/lru.js'
export {
  HerdError,
  HerdArgumentError,
  HerdEncodeError,
  HerdDecodeError,
  HerdTimeoutError,
  HerdClosedError,
  HerdUnavailableError,
  type HerdErrorCode,
} from './errors.js'
export type {
  HerdEvents,
  HerdEventName,
  HerdListener,
  Tier,
  StaleReason,
  ErrorSource,
  BreakerState,
  RecoveryAction,
  RecoveryOperation,
} from './events.js'
export type { HerdStats } from './stats.js'
export type { HerdLogger } from './logger.js'
export type { Inspection, InspectedEntry, EntryStateName } from './pipeline/inspect.js'
export type { FetchContext, LoadContext, LockContext, WriteContext, BreakerMessage, BusEventMessage } from './diagnostics.js'

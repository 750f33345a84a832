/**
 * Type-checked only (pnpm typecheck): the interfaces the contract pages in docs/contracts show
 * (docs/samples/src/contract-*.ts, identical to the pages' text) are exactly @herd/core's, so a
 * change to a contract that the pages don't follow fails here.
 */
import type * as core from '@herd/core'
import type * as bus from '../src/contract-bus.js'
import type * as codec from '../src/contract-codec.js'
import type * as fused from '../src/contract-fused-lock.js'
import type * as lock from '../src/contract-lock.js'
import type * as store from '../src/contract-store.js'

/** true when A and B are the same type, readonly and optional members included. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

export const checked: [
  Same<store.Store, core.Store>,
  Same<lock.Lease, core.Lease>,
  Same<lock.Lock, core.Lock>,
  Same<fused.FusedLock, core.FusedLock>,
  Same<bus.BusMessage, core.BusMessage>,
  Same<bus.Bus, core.Bus>,
  Same<codec.Codec, core.Codec>,
] = [true, true, true, true, true, true, true]

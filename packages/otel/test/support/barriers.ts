import { tracingChannel } from 'node:diagnostics_channel'
import type { LockContext } from '@herd/core'

/** Resolves when this process starts waiting on a key's lock (herd:lock, operation `wait`): a barrier, not a timer. */
export function lockWaitStarted(): Promise<void> {
  return new Promise((resolve) => {
    const handlers = {
      start(message: unknown) {
        if ((message as LockContext).operation !== 'wait') return
        tracingChannel('herd:lock').unsubscribe(handlers)
        resolve()
      },
      end() {},
      asyncStart() {},
      asyncEnd() {},
      error() {},
    }
    tracingChannel('herd:lock').subscribe(handlers)
  })
}

import { tracingChannel, subscribe } from 'node:diagnostics_channel'
import type { LoadContext } from '@herd/core'

tracingChannel('herd:load').subscribe({
  start() {},
  end() {},
  asyncStart() {},
  asyncEnd(context) {
    const load = context as LoadContext
    console.log(`${load.key} loaded in ${load.durationMs} ms (${load.reason})`)
  },
  error() {},
})
subscribe('herd:breaker', (message) => console.warn('breaker', message))

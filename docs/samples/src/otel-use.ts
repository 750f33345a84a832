import { createHerd } from '@herd/core'
import { instrumentHerd } from '@herd/otel'

const herd = createHerd({ ttl: '5m', staleWhileRevalidate: '30s' })
const telemetry = instrumentHerd(herd, {
  name: 'users',                          // herd.name on every metric and span
  keyGroup: (key) => key.split(':')[0],   // herd.key.group: 'user' for 'user:42'
})
// later, if you want it to stop before the process does:
telemetry.stop()

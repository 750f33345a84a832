import { HerdUnavailableError, createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'

const herd = createHerd({ ...redisBackend(redisClient), recovery: { maxOperations: 10_000, maxBytes: 16 * 1024 * 1024 } })
herd.on('recovery', ({ action, operation, key }) => log.warn(`herd: ${operation} of ${key} ${action}`))

// Redis down: resolves; this process serves the new value at once, the fleet gets it when Redis is back.
await herd.set(`user:${id}`, { id, name: 'Ada' })

try {
  await herd.delete(`user:${id}`, { strict: true }) // must reach Redis now
} catch (error) {
  if (!(error instanceof HerdUnavailableError)) throw error
  // error.code === 'HERD_UNAVAILABLE': the fleet was not told (nor will be); this process has dropped its copy
}

import { createHerd } from '@herd/core'
import { redisBus, redisLock, redisStore } from '@herd/redis'
import { createClient } from 'redis'

const client = createClient({ url: process.env.REDIS_URL })
// Required: without an 'error' listener, a Redis blip crashes the process. herd rides it out on in-process protection.
client.on('error', (error) => console.warn(`redis: ${error}`))
await client.connect()

const herd = createHerd({
  store: redisStore(client),
  lock: redisLock(client),
  bus: redisBus(client),
  local: { maxSize: 10_000, ttl: '5s' },
  ttl: '5m', staleWhileRevalidate: '30s', staleIfError: '1h',
})

const user = await herd.fetch(`user:${id}`, ({ signal }) => db.user(id, { signal }))

// On shutdown: the herd first (it closes the pub/sub connection it opened), then your client.
await herd.close()
await client.close()

import { createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'
import { createClient } from 'redis'

const client = createClient({ url: process.env.REDIS_URL })
client.on('error', (error) => log.warn(error)) // required: you own the client and its events
await client.connect()

const herd = createHerd({
  ...redisBackend(client), // { store, lock, bus } sharing one client and one prefix
  ttl: '5m',
  staleWhileRevalidate: '30s',
})

const user = await herd.fetch(`user:${id}`, ({ signal }) => db.user(id, { signal }))

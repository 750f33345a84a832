import { createHerd } from '@herd/core'
import { herdCache } from '@herd/express'
import { redisBackend } from '@herd/redis'

const herd = createHerd({ ...redisBackend(redisClient) })
app.use(herdCache({ ttl: '30s', staleWhileRevalidate: '5m', herd }))
